"""The shared space on real media: a text query must land near the right image and sound."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sensorium import embed, embed_text, media
from sensorium.engine import default_engine
from sensorium.space import Part, mix


def test_text_finds_the_right_photo(photos: dict[str, Path]) -> None:
    names = list(photos)
    images = embed(photos.values())  # (4, 384)
    queries = embed_text(["a photo of a cat", "a cup of coffee"])
    best = (queries @ images.T).argmax(1)
    assert [names[i] for i in best] == ["chelsea", "coffee"]


def test_audio_parts(hello_wav: Path, crow_ogg: Path) -> None:
    speech, crow = default_engine().space.embed([media.load(hello_wav), media.load(crow_ogg)])
    assert speech.transcript is not None and "hello" in speech.transcript.text.lower()
    assert set(speech.parts) == set(speech.part_vectors) == {Part.HEARD, Part.SAID}
    assert crow.transcript is None and set(crow.parts) == {Part.HEARD}  # no speech: no part
    np.testing.assert_allclose(speech.vector, mix(speech.parts, speech.part_vectors), atol=1e-6)
    greeting, bird = embed_text(["someone says hello", "a bird calling"])
    assert speech.vector @ greeting > crow.vector @ greeting
    assert crow.vector @ bird > speech.vector @ bird
    assert np.isfinite(speech.vector).all()
