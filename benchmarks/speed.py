"""Speed on this CPU, each fast path against the plain reference path in the same run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sensorium import media
from sensorium.encoders import ImageEncoder, TextEncoder
from sensorium.encoders.image import preprocess
from sensorium.eval.datasets import speech_set, tuxpaint_stamps
from sensorium.media.types import AudioMedia
from sensorium.models import model_path
from sensorium.models.prepare import efficientnet_torch
from sensorium.perceive.transcribe import recognizer


def _rate(fn: Callable[[], object], items: int, repeat: int = 3) -> float:
    """Best items/s over ``repeat`` runs (after one warm-up): the least noisy estimate."""
    fn()
    best = min(_timed(fn) for _ in range(repeat))
    return items / best


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def image_encoding(n: int = 64) -> dict[str, Any]:
    stamps = tuxpaint_stamps()[:n]
    images = [media.load_image(s.image) for s in stamps]
    pixels = np.stack([preprocess(m.image) for m in images])  # (n, 3, 224, 224)
    fast = ImageEncoder()
    net = efficientnet_torch(model_path("efficientnet-lite0"))
    out: dict[str, Any] = {"images": n, "threads": torch.get_num_threads()}

    def torch_eager(batch: int) -> Callable[[], object]:
        def go() -> None:
            with torch.inference_mode():
                for s in range(0, n, batch):
                    net(torch.from_numpy(pixels[s : s + batch]))

        return go

    def onnx(batch: int) -> Callable[[], object]:
        return lambda: [
            fast.session.run(None, {"pixels": pixels[s : s + batch]}) for s in range(0, n, batch)
        ]

    for batch in (1, 16):
        out[f"torch_eager_b{batch}"] = _rate(torch_eager(batch), n)
        out[f"onnx_b{batch}"] = _rate(onnx(batch), n)
    out["ratio_b16"] = out["onnx_b16"] / out["torch_eager_b16"]
    out["ratio_best_vs_best"] = max(out["onnx_b1"], out["onnx_b16"]) / max(
        out["torch_eager_b1"], out["torch_eager_b16"]
    )
    paths = [s.image for s in stamps]
    out["end_to_end_decode_encode"] = _rate(
        lambda: fast.run([media.load_image(p, min_side=224) for p in paths]), n, repeat=2
    )
    return out


def text_encoding(n: int = 512) -> dict[str, Any]:
    import transformers

    sentences = [s.caption for s in tuxpaint_stamps()][:n]
    fast = TextEncoder()
    folder = model_path("minilm-l6")
    tok = transformers.PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))
    model = transformers.BertModel.from_pretrained(str(folder)).eval()

    def plain() -> None:
        with torch.inference_mode():
            for s in range(0, n, 64):
                b = tok(sentences[s : s + 64], padding=True, truncation=True, return_tensors="pt")
                h = model(**b).last_hidden_state
                m = b["attention_mask"][..., None]
                torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1)

    out = {
        "sentences": n,
        "torch_fp32_per_s": _rate(plain, n),
        "onnx_int8_per_s": _rate(lambda: fast.encode(sentences), n),
    }
    out["ratio"] = out["onnx_int8_per_s"] / out["torch_fp32_per_s"]
    return out


def speech_rtf() -> dict[str, Any]:
    """Real-time factor (processing seconds / audio seconds) on ~2 minutes of real speech."""
    clips = [media.load_audio(i.path).samples for i in speech_set()]
    gap = np.zeros(8000, np.float32)
    audio = AudioMedia("speech-set", np.concatenate([c for clip in clips for c in (clip, gap)]))
    out: dict[str, Any] = {"audio_seconds": audio.duration}
    for model in ("tiny.en", "base"):
        rec = recognizer(model)
        out[f"{model}_rtf"] = _timed(lambda: rec.transcribe(audio)) / audio.duration  # noqa: B023
        short = AudioMedia("one", clips[0])
        out[f"{model}_seconds_per_short_utterance"] = _timed(lambda: rec.transcribe(short))  # noqa: B023
    out["base_vs_tiny_time"] = out["base_rtf"] / out["tiny.en_rtf"]
    return out


def run() -> dict[str, Any]:
    return {"image": image_encoding(), "text": text_encoding(), "speech": speech_rtf()}
