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


def test_a_file_that_cannot_be_read_has_no_print(tmp_path: Path) -> None:
    assert sound_print_of(tmp_path / "gone.wav") is None
    (tmp_path / "text.wav").write_text("not a sound")
    assert sound_print_of(tmp_path / "text.wav") is None


def test_copies_of_a_recording_are_one_group(
    tmp_path: Path, crow_ogg: Path, crow: np.ndarray
) -> None:
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
