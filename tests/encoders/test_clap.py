"""The hub audio-text path (CLAP), on the tiny checkpoint of ``tests/conftest.py``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorium import media
from sensorium.encoders.clap import RATE, ClapEncoder
from sensorium.engine import Engine
from sensorium.media.audio import resample
from sensorium.perceive import classify
from sensorium.space import SharedSpace, SpaceOptions
from sensorium.store.ingest import _models

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")


def _plain(folder: Path, clips: list[np.ndarray], texts: list[str]) -> np.ndarray:
    """The reference: transformers' own forward pass on 48 kHz clips, (N clips, L texts)."""
    model = transformers.ClapModel.from_pretrained(folder).eval()
    processor = transformers.ClapProcessor.from_pretrained(folder)
    inputs = processor(text=texts, audio=clips, sampling_rate=RATE, return_tensors="pt",
                       padding=True)  # fmt: skip
    with torch.inference_mode():
        return model(**inputs).logits_per_audio.numpy()


def test_scores_match_transformers_forward(tiny_clap: Path, crow_ogg: Path) -> None:
    crow = media.load_audio(crow_ogg)  # a real Tux Paint effect, under 10 s
    texts = ["the sound of a crow.", "the sound of rain.", "a dog barking"]
    enc = ClapEncoder(str(tiny_clap))
    audio, txt = enc.encode_audio([crow]), enc.encode_texts(texts)  # (1, 16), (3, 16)
    assert audio.shape == (1, enc.dim)
    plain = _plain(tiny_clap, [resample(crow.samples, RATE)], texts)
    np.testing.assert_allclose(enc.logit_scale * audio @ txt.T, plain, atol=1e-4)


def test_long_clip_is_the_mean_of_its_windows(tiny_clap: Path, librivox_wav: Path) -> None:
    speech = media.load_audio(librivox_wav)
    clip = media.AudioMedia("long", np.tile(speech.samples, 3)[: 16_000 * 25])  # 25 s: 3 windows
    enc = ClapEncoder(str(tiny_clap))
    ours = enc.encode_audio([clip])[0]
    np.testing.assert_array_equal(ours, enc.encode_audio([clip])[0])  # no random window
    wave = resample(clip.samples, RATE)
    windows = [wave[s : s + 10 * RATE] for s in range(0, len(wave), 10 * RATE)]
    each = enc.encode_audio([media.AudioMedia(str(i), resample(w, 16_000, RATE))
                             for i, w in enumerate(windows)])  # fmt: skip
    mean = each.mean(0) / np.linalg.norm(each.mean(0))
    np.testing.assert_allclose(ours, mean, atol=2e-3)  # up to the resampling round trip


def test_empty_clip_still_embeds(tiny_clap: Path) -> None:
    out = ClapEncoder(str(tiny_clap)).encode_audio([media.AudioMedia("empty", np.zeros(0))])
    assert out.shape == (1, 16) and np.isfinite(out).all()


def test_space_and_classify_through_clap(tiny_clap: Path, crow_ogg: Path) -> None:
    space = SharedSpace(SpaceOptions(sound_model=str(tiny_clap)))
    e = space.embed([media.load_audio(crow_ogg)])[0]
    assert e.vector.shape == (384,) and "said" not in e.part_vectors
    assert e.features is not None and e.features.shape == (16,)  # CLAP's embedding
    assert _models(space, "audio")["sound_hub"] == str(tiny_clap)  # a change re-ingests

    labels = ["crow", "rain", "engine"]
    result = classify([crow_ogg], labels, top=3, engine=Engine(space=space))[0]
    crow = resample(media.load_audio(crow_ogg).samples, RATE)
    plain = _plain(tiny_clap, [crow], [f"the sound of {x}." for x in labels])[0]
    expected = np.exp(plain - plain.max()) / np.exp(plain - plain.max()).sum()
    got = dict(result.labels)
    np.testing.assert_allclose([got[x] for x in labels], expected, atol=1e-4)
