"""The one mixing rule: a weighted sum of the parts present, normalised."""

from __future__ import annotations

import numpy as np
import pytest

from sensorium.space import Part, mix


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return v / np.linalg.norm(v)


def test_mix_is_the_normalised_weighted_sum() -> None:
    seen, written = _unit(0), _unit(1)
    out = mix({Part.SEEN: 1.0, Part.WRITTEN: 0.5}, {Part.SEEN: seen, Part.WRITTEN: written})
    expected = seen + 0.5 * written
    np.testing.assert_allclose(out, expected / np.linalg.norm(expected), atol=1e-6)
    assert out.shape == (384,) and out.dtype == np.float32


def test_a_part_without_a_vector_adds_nothing() -> None:
    seen = _unit(2)
    out = mix({Part.SEEN: 0.3, Part.FACES: 2.0}, {Part.SEEN: seen})  # faces not found
    np.testing.assert_allclose(out, seen, atol=1e-6)
    with pytest.raises(ValueError, match="nothing to mix"):
        mix({Part.SAID: 1.0}, {Part.HEARD: seen})


def test_part_names_are_plain_strings() -> None:
    # stored items and JSON carry the names; the enum is the same strings
    assert [str(p) for p in Part] == ["seen", "heard", "said", "written", "faces", "text"]
    assert {"heard": 1.0}[Part.HEARD] == 1.0


def test_one_weight_rule_for_every_part() -> None:
    """``SpaceOptions.weight``: the prior of each part times its confidence, what is heard
    floored; images, sounds and video segments all weigh their parts with it."""
    from sensorium.space.space import HEARD_FLOOR, SpaceOptions

    o = SpaceOptions(transcript_weight=2.0, ocr_weight=0.5, faces_weight=0.25)
    assert o.weight(Part.SAID, 0.8) == 2.0 * 0.8 and o.weight(Part.WRITTEN, 0.8) == 0.5 * 0.8
    assert o.weight(Part.FACES, 0.8) == 0.25 * 0.8 and o.weight(Part.SEEN) == 1.0
    assert o.weight(Part.TEXT) == 1.0 and o.weight(Part.HEARD, 0.3) == 0.3
    assert o.weight(Part.HEARD, 0.0) == HEARD_FLOOR  # a silent clip's bridge still counts
