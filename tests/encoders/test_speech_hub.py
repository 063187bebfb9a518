"""The hub path of the speech recogniser, on a tiny Whisper checkpoint the test builds itself.

A hub-only card (no registry wheel) hands its hub id to faster-whisper, which accepts a hub id
or a local folder. Here the "hub" is a folder holding a randomly initialised 1-layer Whisper,
converted to CTranslate2 exactly as the hub's faster-whisper models are.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from sensorium.encoders import speech
from sensorium.media import AudioMedia
from sensorium.models import get_card, model_path


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    transformers = pytest.importorskip("transformers")
    ctranslate2 = pytest.importorskip("ctranslate2")
    root = tmp_path_factory.mktemp("hub")
    config = transformers.WhisperConfig(
        vocab_size=51865, d_model=64, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=128,
        decoder_ffn_dim=128, max_source_positions=1500, max_target_positions=448,
    )  # fmt: skip
    transformers.WhisperForConditionalGeneration(config).save_pretrained(root / "hf")
    out = root / "ct2"
    ctranslate2.converters.TransformersConverter(str(root / "hf")).convert(str(out))
    # faster-whisper fetches the tokenizer from the hub unless the folder has one
    shutil.copy(model_path("whisper-base") / "tokenizer.json", out / "tokenizer.json")
    return out


def test_hub_only_card_loads_through_faster_whisper(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = dataclasses.replace(get_card("whisper-small"), hub=str(tiny_checkpoint))
    assert not card.offline  # no registry source: the hub path is taken
    monkeypatch.setattr(speech, "get_card", lambda name: card)
    rec = speech.SpeechRecognizer("small", beam_size=1)
    t = rec.transcribe(AudioMedia("noise", np.zeros(16000, np.float32)), language="en")
    assert isinstance(t, speech.Transcript)  # random weights: any text, but it ran end to end
