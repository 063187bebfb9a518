"""Sound near-duplicates: copies of a real recording are grouped, other recordings of the same
kind of sound are not; the spectrogram print lines up trimmed and quieter copies."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from sensorium import media
from sensorium.collection import Collection
from sensorium.eval.datasets import TUXPAINT
from sensorium.media.types import MediaKind
from sensorium.search import duplicates
from sensorium.search.fingerprint import alignment, sound_print, sound_print_of

BIRDS = TUXPAINT / "animals/birds"
OTHERS = ("duck", "drake", "gander", "hen", "rooster", "blackbird")  # birds, like the crow


def _wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def crow(crow_ogg: Path) -> np.ndarray:
    return media.load(crow_ogg).samples  # type: ignore[union-attr]


def test_a_copy_lines_up_and_another_recording_does_not(crow: np.ndarray) -> None:
    original = sound_print(crow)
    assert alignment(original, sound_print(crow * 0.5)) > 0.99  # gain drops out
    assert alignment(original, sound_print(crow[len(crow) // 10 :])) > 0.9  # a trim is a shift
    for name in OTHERS:
        other = media.load(BIRDS / f"{name}.ogg").samples  # type: ignore[union-attr]
        assert alignment(original, sound_print(other)) < 0.8, name


def test_two_recordings_of_noise_are_not_copies() -> None:
    """A steady sound (rain, wind, hum) looks the same in every frame; what tells two
    recordings apart is how they change, which for noise is chance (synthetic: exact control
    of what the two share)."""
    rng = np.random.default_rng(0)
    threshold = duplicates.RULES[MediaKind.AUDIO].threshold
    steady = [rng.normal(0, 0.3, 48000).astype(np.float32) for _ in range(2)]
    assert alignment(sound_print(steady[0]), sound_print(steady[1])) < 0.3
    bursts = [np.zeros(16000, np.float32) for _ in range(2)]
    for b in bursts:  # the same envelope: 0.4 s of noise in a second of silence
        b[4000:10400] = rng.normal(0, 0.3, 6400)
    assert alignment(sound_print(bursts[0]), sound_print(bursts[1])) < threshold
    assert alignment(sound_print(bursts[0]), sound_print(bursts[0] * 0.1)) > 0.99


def test_a_file_that_cannot_be_read_has_no_print(tmp_path: Path) -> None:
    assert sound_print_of(tmp_path / "gone.wav") is None
    (tmp_path / "text.wav").write_text("not a sound")
    assert sound_print_of(tmp_path / "text.wav") is None


@pytest.mark.parametrize("budget", [duplicates.PRINTS_BUDGET, 1])
def test_copies_of_a_recording_are_one_group(
    tmp_path: Path, crow_ogg: Path, crow: np.ndarray, budget: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The same groups whether every print is kept or each is read again when asked for."""
    monkeypatch.setattr(duplicates, "PRINTS_BUDGET", budget)
    root = tmp_path / "sounds"
    root.mkdir()
    shutil.copy(crow_ogg, root / "crow.ogg")
    _wav(root / "crow-quieter.wav", crow * 0.5)
    _wav(root / "crow-trimmed.wav", crow[len(crow) // 10 :])
    for name in OTHERS:
        shutil.copy(BIRDS / f"{name}.ogg", root / f"{name}.ogg")
    coll = Collection(tmp_path / "db")
    assert not coll.ingest([root]).failed
    groups = coll.duplicates(kind="audio")
    assert [sorted(Path(p).name for p in g.paths) for g in groups] == [
        ["crow-quieter.wav", "crow-trimmed.wav", "crow.ogg"]
    ]
    assert groups[0].score > 0.9
    # a copy that went away since ingest is judged by its features alone (the quieter one's
    # are the original's: cosine 0.997)
    (root / "crow-quieter.wav").unlink()
    left = coll.duplicates(kind="audio")
    assert [sorted(Path(p).name for p in g.paths) for g in left] == [
        ["crow-quieter.wav", "crow-trimmed.wav", "crow.ogg"]
    ]
