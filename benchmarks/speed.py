"""Speed on this CPU, each fast path against the plain reference path in the same run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sensorium import media
from sensorium.encoders import ImageEncoder, SoundEncoder, TextEncoder
from sensorium.encoders.image import preprocess
from sensorium.encoders.sound import log_mel_patches
from sensorium.engine import default_engine
from sensorium.eval.datasets import speech_set, tuxpaint_sounds, tuxpaint_stamps
from sensorium.media.types import AudioMedia
from sensorium.models import model_path
from sensorium.models.prepare import efficientnet_torch

NAME = "speed"  # benchmarks/results/speed.json, `--only speed`


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


def sound_encoding(n: int = 60) -> dict[str, Any]:
    """YAMNet as shipped (the derived float graph, patches batched) against the wheel's QDQ
    graph with ONNX Runtime's fused integer kernels (the old path, CPU-dependent) and run
    plainly (optimisations off), beside decoding the same files."""
    import onnxruntime as ort

    paths = [p.sound for p in tuxpaint_sounds()[:n]]
    clips = [media.load_audio(p) for p in paths]
    patches = [log_mel_patches(c.samples) for c in clips]
    fast = SoundEncoder()
    qdq_path = str(model_path("yamnet") / "model.onnx")
    import onnx
    from onnx import numpy_helper

    inits = {i.name: float(numpy_helper.to_array(i))
             for i in onnx.load(qdq_path, load_external_data=False).graph.initializer
             if i.name in ("audio_scale", "audio_zero_point")}  # fmt: skip
    scale, zero = inits["audio_scale"], inits["audio_zero_point"]
    q_patches = [np.clip(np.round(p / scale + zero), 0, 255).astype(np.uint8) for p in patches]

    def qdq(level: ort.GraphOptimizationLevel) -> Callable[[], object]:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = level
        opts.log_severity_level = 3
        sess = ort.InferenceSession(qdq_path, opts, providers=["CPUExecutionProvider"])
        return lambda: [sess.run(None, {"audio": p[None, None]}) for q in q_patches for p in q]

    levels = ort.GraphOptimizationLevel
    out: dict[str, Any] = {
        "clips": n,
        "audio_seconds": float(sum(c.duration for c in clips)),
        "decode_per_s": _rate(lambda: [media.load_audio(p) for p in paths], n, repeat=2),
        "front_end_per_s": _rate(lambda: [log_mel_patches(c.samples) for c in clips], n),
        "float_per_s": _rate(lambda: fast._patch_scores(np.concatenate(patches)), n),
        "qdq_fused_per_s": _rate(qdq(levels.ORT_ENABLE_ALL), n),
        "qdq_plain_per_s": _rate(qdq(levels.ORT_DISABLE_ALL), n),
    }
    out["float_vs_qdq_fused"] = out["float_per_s"] / out["qdq_fused_per_s"]
    return out


def speech_rtf() -> dict[str, Any]:
    """Real-time factor (processing seconds / audio seconds) on ~2 minutes of real speech."""
    clips = [media.load_audio(i.path).samples for i in speech_set()]
    gap = np.zeros(8000, np.float32)
    audio = AudioMedia("speech-set", np.concatenate([c for clip in clips for c in (clip, gap)]))
    out: dict[str, Any] = {"audio_seconds": audio.duration}
    for model in ("tiny.en", "base"):
        rec = default_engine().recognizer(model)
        out[f"{model}_rtf"] = _timed(lambda: rec.transcribe(audio)) / audio.duration  # noqa: B023
        short = AudioMedia("one", clips[0])
        out[f"{model}_seconds_per_short_utterance"] = _timed(lambda: rec.transcribe(short))  # noqa: B023
    out["base_vs_tiny_time"] = out["base_rtf"] / out["tiny.en_rtf"]
    return out


def run() -> dict[str, Any]:
    return {"image": image_encoding(), "text": text_encoding(), "sound": sound_encoding(),
            "speech": speech_rtf()}  # fmt: skip


def markdown(s: dict[str, Any]) -> list[str]:
    im, tx, sp = s["image"], s["text"], s["speech"]
    return [
        "## Speed",
        "",
        f"Machine: {s['machine']['cpu']}, {s['machine']['cores']} cores, {s['machine']['date']}.",
        "",
        "| what | plain reference path | fast path | ratio |",
        "|---|---|---|---|",
        f"| image encoding, batch 16 (EfficientNet-Lite0) | torch eager {im['torch_eager_b16']:.1f} img/s "
        f"| ONNX Runtime {im['onnx_b16']:.1f} img/s | **{im['ratio_b16']:.2f}x** |",
        f"| image encoding, batch 1 | torch eager {im['torch_eager_b1']:.1f} img/s "
        f"| ONNX Runtime {im['onnx_b1']:.1f} img/s | {im['onnx_b1'] / im['torch_eager_b1']:.2f}x |",
        f"| text encoding (MiniLM-L6, Tux Paint captions) | torch fp32 {tx['torch_fp32_per_s']:.0f} sent/s "
        f"| ONNX int8 {tx['onnx_int8_per_s']:.0f} sent/s | **{tx['ratio']:.2f}x** |",
        "",
        f"Image decode + encode end to end (Tux Paint PNGs): {im['end_to_end_decode_encode']:.1f} img/s.",
        "",
        *_sound_markdown(s.get("sound")),
        f"Speech, {sp['audio_seconds']:.0f} s of real speech in one file: real-time factor "
        f"tiny.en **{sp['tiny.en_rtf']:.3f}**, base {sp['base_rtf']:.3f} (base takes "
        f"{sp['base_vs_tiny_time']:.1f}x tiny.en's time). One short utterance: tiny.en "
        f"{sp['tiny.en_seconds_per_short_utterance']:.2f} s, base {sp['base_seconds_per_short_utterance']:.2f} s "
        "(fixed cost dominates short clips).",
        "",
        f"Peak memory of the speed run: {s['peak_rss_mb']:.0f} MB.",
        "",
    ]


def _sound_markdown(sd: dict[str, Any] | None) -> list[str]:
    if not sd:
        return []
    return [
        f"YAMNet on {sd['clips']} Tux Paint sound effects ({sd['audio_seconds']:.0f} s), clips/s: "
        f"shipped float graph (patches batched) **{sd['float_per_s']:.0f}**; the wheel's QDQ "
        f"graph with fused integer kernels (the old, CPU-dependent path) {sd['qdq_fused_per_s']:.0f} "
        f"(float runs at {sd['float_vs_qdq_fused']:.2f}x of it); the QDQ graph run plainly "
        f"{sd['qdq_plain_per_s']:.0f}. Beside it: decoding the files {sd['decode_per_s']:.0f}/s, "
        f"the log-mel front end {sd['front_end_per_s']:.0f}/s.",
        "",
    ]
