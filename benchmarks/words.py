"""Isolated spoken words (``sensorium.eval.words``): found without and with a hint, and the time
a clip costs, in process and through one ``sensorium transcribe`` process over 30 clips
(process start and model load included). The path short clips took before (the 30 s window,
whole-segment gates: ``SpeechRecognizer(short_clips=False)``) runs in the same run as the
reference."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from sensorium import media
from sensorium.encoders.speech import SpeechRecognizer
from sensorium.engine import default_engine
from sensorium.eval.datasets import DatasetMissingError, SpeechItem
from sensorium.eval.words import (
    DIGIT_WORDS,
    asterisk_digits,
    asterisk_numbers,
    found,
    ktuberling_words,
)

NAME = "words"
MODELS = ("base", "tiny.en")
DIGIT_HINT = " ".join(DIGIT_WORDS)


def _found(rec: SpeechRecognizer, items: list[SpeechItem], hint: str | None) -> dict[str, Any]:
    clips = [media.load_audio(i.path) for i in items]
    misses, t0 = [], time.perf_counter()
    for item, clip in zip(items, clips):
        text = rec.transcribe(clip, hint=hint).text
        if not found(item.text, text):
            misses.append({"file": item.path.name, "ref": item.text, "hyp": text})
    seconds = (time.perf_counter() - t0) / max(1, len(items))
    return {"clips": len(items), "found": 1 - len(misses) / max(1, len(items)),
            "seconds_per_clip": seconds, "misses": misses}  # fmt: skip


def _cli(model: str, items: list[SpeechItem], hint: str | None) -> dict[str, Any]:
    """Wall time of one ``sensorium transcribe`` process over the clips, per clip."""
    cmd = [sys.executable, "-m", "sensorium", "transcribe", "--model", model, "--json"]
    cmd += [str(i.path) for i in items] + (["--hint", hint] if hint else [])
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy(), check=False)
    wall = time.perf_counter() - t0
    return {"clips": len(items), "wall_s": wall, "seconds_per_clip": wall / max(1, len(items)),
            "rc": out.returncode, "command": " ".join(cmd[1:3] + cmd[3:7]) + " <30 clips>"
            + (f' --hint "{hint}"' if hint else "")}  # fmt: skip


def run() -> dict[str, Any]:
    digits, numbers = asterisk_digits(), asterisk_numbers()
    try:
        words = ktuberling_words()
    except DatasetMissingError:
        words = []
    vocabulary = " ".join(sorted({i.text for i in words}))
    out: dict[str, Any] = {"models": []}
    for model in MODELS:
        shipped = default_engine().recognizer(model)
        reference = SpeechRecognizer(model, short_clips=False)
        row: dict[str, Any] = {"model": model, "compute_type": shipped.compute_type}
        for path, rec in (("", shipped), ("reference_", reference)):
            row[f"{path}digits"] = _found(rec, digits, None)
            row[f"{path}digits_hint"] = _found(rec, digits, DIGIT_HINT)
            row[f"{path}numbers"] = _found(rec, numbers, None)
            if words:
                row[f"{path}ktuberling"] = _found(rec, words, None)
                row[f"{path}ktuberling_hint"] = _found(rec, words, vocabulary)
        row["cli_numbers"] = _cli(model, numbers, None)
        row["cli_numbers_hint"] = _cli(model, numbers, DIGIT_HINT)
        out["models"].append(row)
    return out


def markdown(data: dict[str, Any]) -> list[str]:
    sets = [("digits", "digits"), ("digits_hint", "digits + hint"), ("numbers", "numbers (30)"),
            ("ktuberling", "KTuberling"), ("ktuberling_hint", "KTuberling + hint")]  # fmt: skip
    lines = [
        "## Isolated spoken words",
        "",
        "Share of clips whose word is in the transcript (numbers compared as words), and seconds "
        "a clip in process. Asterisk `digits/` (one speaker, 8 kHz): the ten digits, and 30 "
        "spoken numbers (0–20, tens, hundred, thousand); KTuberling's 71 English object names "
        "(another speaker). Hint: the ten digit words for digits, the 71 names for KTuberling. "
        "Reference: every clip through the 30 s window with whole-segment gates (the path short "
        "clips took before), same run. CLI: one `sensorium transcribe` process over the 30 "
        "numbers (start and model load included), wall time / 30.",
        "",
        "| model | path | " + " | ".join(title for _, title in sets) + " | CLI s a clip / + hint |",
        "|---|---|" + "---|" * len(sets) + "---|",
    ]
    for r in data["models"]:
        for path, label in (("", "shipped"), ("reference_", "reference")):
            cells = []
            for key, _ in sets:
                m = r.get(path + key)
                cells.append(f"{m['found']:.2f} ({m['seconds_per_clip']:.2f} s)" if m else "–")
            cli = (
                f"{r['cli_numbers']['seconds_per_clip']:.2f} / "
                f"{r['cli_numbers_hint']['seconds_per_clip']:.2f}"
                if not path
                else ""
            )
            lines.append(f"| {r['model']} | {label} | " + " | ".join(cells) + f" | {cli} |")
    return lines
