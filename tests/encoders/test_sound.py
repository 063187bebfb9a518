from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorium import media
from sensorium.encoders import SoundEncoder
from sensorium.encoders.sound import MIN_SAMPLES, log_mel_patches
from sensorium.media import AudioMedia


@pytest.fixture(scope="module")
def encoder() -> SoundEncoder:
    return SoundEncoder()


def _top(encoder: SoundEncoder, path: Path, n: int = 3) -> list[str]:
    scores = encoder.encode([media.load_audio(path)])[0]
    return [encoder.classes[i] for i in np.argsort(-scores)[:n]]


def test_front_end_shapes() -> None:
    assert log_mel_patches(np.zeros(100, np.float32)).shape == (1, 96, 64)  # padded to one patch
    assert log_mel_patches(np.zeros(MIN_SAMPLES + 48 * 160, np.float32)).shape == (2, 96, 64)


def test_real_sounds(encoder: SoundEncoder, crow_ogg: Path, hello_wav: Path) -> None:
    assert "Crow" in _top(encoder, crow_ogg)
    assert _top(encoder, hello_wav, 1) == ["Speech"]


def test_silence(encoder: SoundEncoder, silence: np.ndarray) -> None:
    out = encoder.run([AudioMedia("silence", silence)])
    assert encoder.classes[int(out.scores[0].argmax())] == "Silence"
    assert out.patch_scores[0].shape[1] == 521
