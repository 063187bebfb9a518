"""Shared cores: model throughput alone, and beside another process that keeps one core busy,
for the thread settings a user can choose (``Settings.threads``: $SENSORIUM_THREADS and
$SENSORIUM_SPIN).

Workloads (real data): EfficientNet-Lite0 on 64 Tux Paint stamps (images/s), MiniLM on 512
Tux Paint captions (sentences/s), Whisper tiny.en on the Asterisk prompts (real-time factor),
and two text requests at once (two threads sharing one engine, as the service runs them).
The busy neighbour is a second Python process spinning on one core for the whole run.
Each figure is the best of ``REPEATS`` runs, to keep the machine's other noise out.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

NAME = "cores"
REPEATS = 3
SETTINGS = {"all cores, spinning": (0, True), "all cores, no spinning (default)": (0, False),
            "one thread": (1, False)}  # fmt: skip


def _data() -> tuple[list[Any], list[str], list[Any]]:
    from sensorium import media
    from sensorium.eval.datasets import ASTERISK, TUXPAINT, tuxpaint_captions

    stamps = sorted((TUXPAINT / "animals").rglob("*.png"))[:64]
    images = [media.load_image(p, 224) for p in stamps]
    clips = [media.load_audio(p) for p in sorted(ASTERISK.glob("*.wav"))[:6]]
    return images, tuxpaint_captions()[:512], clips


def _best(fn: Any) -> float:
    out = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def _measure(count: int, spin: bool, images: list[Any], texts: list[str], clips: list[Any]
             ) -> dict[str, float]:  # fmt: skip
    from sensorium.encoders.base import Threads
    from sensorium.encoders.image import ImageEncoder
    from sensorium.encoders.speech import SpeechRecognizer
    from sensorium.encoders.text import TextEncoder

    threads = Threads(count, spin)
    image, text = ImageEncoder(threads=threads), TextEncoder(threads=threads)
    speech = SpeechRecognizer("tiny.en", threads=threads)
    image.run(images[:4]), text.encode(texts[:8]), speech.transcribe(clips[0])  # warm
    audio_s = sum(c.duration for c in clips)

    def two_at_once() -> None:
        half = len(texts) // 2
        workers = [threading.Thread(target=text.encode, args=(texts[i * half : (i + 1) * half],))
                   for i in range(2)]  # fmt: skip
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    return {
        "images_per_s": round(len(images) / _best(lambda: image.run(images)), 1),
        "sentences_per_s": round(len(texts) / _best(lambda: text.encode(texts)), 1),
        "speech_rtf": round(_best(lambda: [speech.transcribe(c) for c in clips]) / audio_s, 3),
        "two_requests_sentences_per_s": round(len(texts) / _best(two_at_once), 1),
    }


def run() -> dict[str, Any]:
    images, texts, clips = _data()
    out: dict[str, Any] = {"settings": {}}
    for name, (count, spin) in SETTINGS.items():
        alone = _measure(count, spin, images, texts, clips)
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(0.5)
            beside = _measure(count, spin, images, texts, clips)
        finally:
            busy.kill()
            busy.wait()
        out["settings"][name] = {"threads": count, "spin": spin, "alone": alone,
                                 "beside_busy": beside}  # fmt: skip
        print(name, alone, beside, flush=True)
    return out


def markdown(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Shared cores",
        "",
        "Model throughput alone and beside a process that keeps one core busy, per thread "
        "setting (`Settings.threads`: `$SENSORIUM_THREADS`, `$SENSORIUM_SPIN`); "
        f"`python -m benchmarks.run --only cores` ({data['machine']['cpu']}, "
        f"{data['machine']['cores']} cores). Best of {REPEATS} runs each; beside/alone in "
        "brackets. Speech is the real-time factor (lower is better).",
        "",
        "| setting | | images/s | sentences/s | tiny.en RTF | 2 requests at once, sentences/s |",
        "|---|---|---|---|---|---|",
    ]
    keys = ["images_per_s", "sentences_per_s", "speech_rtf", "two_requests_sentences_per_s"]
    for name, s in data["settings"].items():
        a, b = s["alone"], s["beside_busy"]
        lines.append(f"| {name} | alone | " + " | ".join(str(a[k]) for k in keys) + " |")
        lines.append("| | beside a busy core | " + " | ".join(
            f"{b[k]} ({b[k] / a[k]:.2f})" for k in keys) + " |")  # fmt: skip
    return [*lines, ""]
