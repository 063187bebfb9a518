"""Learned adapters: start as the bridge, train on real pairs, load only when the hash matches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorium import media
from sensorium.engine import Engine, Settings, default_engine
from sensorium.errors import ChecksumError
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.space import LinearAdapter, SharedSpace, SpaceOptions

torch = pytest.importorskip("torch")

from sensorium.fusion.adapter import Pairs, train_adapter  # noqa: E402


@pytest.fixture(scope="module")
def pairs() -> Pairs:
    """120 real Tux Paint photo-caption pairs (every sixth stamp)."""
    stamps = tuxpaint_stamps()[::6][:120]
    space = default_engine().space
    embedded = space.embed([media.load_image(s.image, 224) for s in stamps])
    return Pairs(
        "image", np.stack([e.features for e in embedded]), np.stack([e.vector for e in embedded]),
        space.text.encode([s.caption for s in stamps]), [s.caption for s in stamps],
        [s.category for s in stamps],
    )  # fmt: skip


def test_an_untrained_adapter_is_the_bridge(pairs: Pairs) -> None:
    identity = np.concatenate([np.zeros((384, 1280)), np.eye(384)], 1).astype(np.float32)
    adapter = LinearAdapter(identity, np.zeros(384, np.float32), "image")
    np.testing.assert_allclose(adapter.apply(pairs.features, pairs.bridge), pairs.bridge, atol=1e-5)


def test_training_aligns_photos_with_their_captions(pairs: Pairs, tmp_path: Path) -> None:
    train = np.arange(len(pairs.captions)) < 90
    adapter = train_adapter(pairs, train, epochs=30)
    adapted = adapter.apply(pairs.features, pairs.bridge)  # (N, 384)

    def hits(v: np.ndarray) -> float:
        return float((np.argmax(v[train] @ pairs.captions[train].T, 1) == np.arange(90)).mean())

    assert hits(adapted) > hits(pairs.bridge) + 0.2  # on its own pairs, by construction
    # The numpy path equals the torch layer it was trained as.
    x = torch.tensor(np.concatenate([pairs.features, pairs.bridge], 1))
    lin = torch.nn.Linear(x.shape[1], 384)
    lin.load_state_dict(
        {"weight": torch.tensor(adapter.weight), "bias": torch.tensor(adapter.bias)}
    )
    reference = torch.nn.functional.normalize(lin(x), dim=1).detach().numpy()
    np.testing.assert_allclose(adapted, reference, atol=1e-5)
    # Saved with its hash; a changed file is refused.
    path = tmp_path / "image.npz"
    sha = adapter.save(path)
    again = LinearAdapter.load(path, sha)  # stored as float16: outputs within 1e-3
    np.testing.assert_allclose(again.apply(pairs.features, pairs.bridge), adapted, atol=1e-3)
    with pytest.raises(ChecksumError):
        LinearAdapter.load(path, "0" * 64)


def test_space_uses_an_adapter_only_when_given_one(pairs: Pairs, stamp_png: Path) -> None:
    adapter = train_adapter(pairs, np.ones(len(pairs.captions), bool), epochs=5)
    image = media.load_image(stamp_png, 224)
    plain = default_engine().space.embed([image])[0]
    adapted = SharedSpace(SpaceOptions(image_adapter=adapter)).embed([image])[0]
    np.testing.assert_allclose(
        adapted.vector, adapter.apply(plain.features[None], plain.vector[None])[0], atol=1e-5
    )
    assert not np.allclose(adapted.vector, plain.vector)


def test_shipped_adapters_load_verified_and_only_on_request(
    stamp_png: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package's adapters install from the package itself (no download) into a fresh
    home, refuse a changed byte, and the default space uses one only when
    $SENSORIUM_ADAPTERS names it; what is ingested records the adapter it went through."""
    from sensorium import config
    from sensorium.models.cache import _verified, card_dir
    from sensorium.space.adapter import ADAPTER_CARDS, bundled

    monkeypatch.setenv("SENSORIUM_HOME", str(tmp_path))
    image, sound = bundled("image"), bundled("sound")
    assert (image.feature_dim, sound.feature_dim) == (1280, 521)
    assert image.source == ADAPTER_CARDS["image"]
    path = card_dir(ADAPTER_CARDS["image"]) / "adapter.npz"
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0xFF
    path.write_bytes(bytes(blob))
    _verified.cache_clear()
    with pytest.raises(ChecksumError):
        bundled("image")
    _verified.cache_clear()
    monkeypatch.undo()

    assert config.adapters() == ()
    monkeypatch.setenv("SENSORIUM_ADAPTERS", "image")
    assert config.adapters() == ("image",)
    space = Engine(Settings.from_env()).space  # what the CLI and the service build
    assert space.options.image_adapter is not None and space.options.sound_adapter is None
    plain = SharedSpace().embed([media.load_image(stamp_png, 224)])[0]
    adapted = space.embed([media.load_image(stamp_png, 224)])[0]
    expected = space.options.image_adapter.apply(plain.features[None], plain.vector[None])
    np.testing.assert_allclose(adapted.vector, expected[0], atol=1e-5)


def test_an_adapter_is_default_only_where_it_measured_better() -> None:
    """The registry's ``default`` for each shipped adapter follows the measured rule, read from
    the committed benchmark results (``python -m benchmarks.run --only adapters``)."""
    import json

    from sensorium.fusion.adapter import beats_bridge
    from sensorium.models import get_card
    from sensorium.space.adapter import ADAPTER_CARDS

    results = Path(__file__).parents[2] / "benchmarks" / "results" / "adapters.json"
    measured = json.loads(results.read_text())
    for modality, card in ADAPTER_CARDS.items():
        assert get_card(card).default == beats_bridge(measured[modality]), card
