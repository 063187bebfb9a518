from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from sensorium import media
from sensorium.encoders import SpeechRecognizer
from sensorium.eval.metrics import normalize_text
from sensorium.media import AudioMedia


@pytest.fixture(scope="module")
def tiny() -> SpeechRecognizer:
    return SpeechRecognizer("tiny.en")


def test_real_speech(tiny: SpeechRecognizer, hello_wav: Path, librivox_wav: Path) -> None:
    assert normalize_text(tiny.transcribe(media.load(hello_wav)).text) == "hello world"
    t = tiny.transcribe(media.load(librivox_wav))
    assert "young man" in normalize_text(t.text)
    assert t.language == "en" and 0 < t.confidence <= 1


def test_no_text_from_silence_or_noise(tiny: SpeechRecognizer, silence: np.ndarray) -> None:
    noise = np.random.default_rng(0).normal(0, 0.1, 16000 * 4).astype(np.float32)
    for samples in (silence, noise):
        t = tiny.transcribe(AudioMedia("x", samples))
        assert t.text == "" and t.segments == []


def test_timestamps_follow_the_speech(tiny: SpeechRecognizer, hello_wav: Path) -> None:
    """Real speech placed 3 s into a silent track: the segment must start near 3 s."""
    speech = media.load(hello_wav).samples
    track = np.concatenate([np.zeros(48000, np.float32), speech, np.zeros(32000, np.float32)])
    (seg,) = tiny.transcribe(AudioMedia("padded", track)).segments
    assert 2.5 < seg.start < 3.4 and seg.end < 5.0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_hint_is_accepted(tiny: SpeechRecognizer, tmp_path: Path) -> None:
    wav = tmp_path / "name.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Please call Sensorium support."], check=True)
    t = tiny.transcribe(media.load(wav), hint="Sensorium")
    assert "sensorium" in normalize_text(t.text)
