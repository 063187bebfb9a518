"""What the models know, kept on data nobody tuned on: the development halves in
``../shared/data`` (their README), never copied into the repository.

- ``imagenet-dev``: 500 ImageNet photos, one per class. Zero-shot top-1 and top-5 of
  ``sensorium.classify`` against all 1000 names, given as the engine names them and as
  ImageNet's folders do (WordNet's first synonym), beside the classifier alone in the same run
  (resize 256 / centre crop 224, the reference; and squashed to 224 x 224).
- ``fsdd-dev``: spoken digits by three speakers, 8 kHz. Found with no hint and with the ten
  digit words as hint (the engine's default model, base), seconds a clip in process, and one
  ``sensorium transcribe`` process over 100 clips (start-up and model load included).
- Tux Paint's non-speech effects and four synthetic clips: the clips that get no words.

``SENSORIUM_DIGIT_TAKES`` (default 50: all) bounds the takes per digit and speaker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import sensorium
from benchmarks.quality import no_invented_text
from sensorium import media
from sensorium.encoders.image import preprocess
from sensorium.engine import default_engine
from sensorium.eval.words import DIGIT_WORDS, found
from sensorium.space.space import image_class_aliases, image_class_prompts

NAME = "devsets"
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
HINT = " ".join(DIGIT_WORDS)


def _need(folder: Path) -> Path:
    if not folder.is_dir():
        raise SystemExit(f"{folder} is missing: the development halves live in ../shared/data")
    return folder


def _photos() -> tuple[list[Path], np.ndarray]:
    """The photos and their class indices: the dev half holds the classes at even positions of
    the 1000 WNIDs sorted (tench, great white shark, ...), one photo each."""
    files = sorted(_need(DATA / "imagenet-dev").glob("*.JPEG"))
    return files, 2 * np.arange(len(files))


def _topk(scores: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    order = np.argsort(-scores, axis=1)
    return {"top1": float((order[:, 0] == truth).mean()),
            "top5": float((order[:, :5] == truth[:, None]).any(1).mean())}  # fmt: skip


def _classifier(files: list[Path], truth: np.ndarray, mode: str) -> dict[str, float]:
    """The classifier alone: "crop" (resize 256, centre 224) or "squash" (224 x 224)."""
    encoder = default_engine().space.image
    rows = []
    for f in files:
        image = media.load_image(f).image
        if mode == "squash":
            image = image.resize((224, 224))
        rows.append(
            encoder.session.run(["logits"], {"pixels": preprocess(image, "crop")[None]})[0][0]
        )
    return _topk(np.array(rows), truth)


def _classify(files: list[Path], truth: np.ndarray, names: list[str]) -> dict[str, float]:
    t0 = time.perf_counter()
    results = sensorium.classify(files, names, top=5)
    index = {n: i for i, n in reversed(list(enumerate(names)))}
    scores = np.zeros((len(files), len(names)), np.float32)
    for i, r in enumerate(results):
        for rank, (label, _) in enumerate(r.labels):
            scores[i, index[label]] = 5 - rank
    return {**_topk(scores, truth), "seconds": time.perf_counter() - t0}


def imagenet() -> dict[str, Any]:
    files, truth = _photos()
    folder_names = [a[0] for a in image_class_aliases()]
    return {
        "photos": len(files),
        "classifier_crop": _classifier(files, truth, "crop"),
        "classifier_squash": _classifier(files, truth, "squash"),
        "classify_engine_names": _classify(files, truth, image_class_prompts()[0]),
        "classify_folder_names": _classify(files, truth, folder_names),
    }


def _digits(takes: int) -> list[tuple[Path, str]]:
    files = sorted(_need(DATA / "fsdd-dev").glob("*.wav"))
    return [(f, DIGIT_WORDS[int(f.stem.split("_")[0])]) for f in files
            if int(f.stem.split("_")[2]) < takes]  # fmt: skip


def _found(clips: list[tuple[Path, str]], hint: str | None) -> dict[str, Any]:
    rec = default_engine().recognizer("base")
    misses, speakers = [], {}
    t0 = time.perf_counter()
    for path, word in clips:
        text = rec.transcribe(media.load_audio(path), hint=hint).text
        ok = found(word, text)
        speaker = path.stem.split("_")[1]
        speakers.setdefault(speaker, []).append(ok)
        if not ok:
            misses.append({"file": path.name, "said": word, "heard": text})
    return {"found": 1 - len(misses) / len(clips),
            "by_speaker": {s: float(np.mean(v)) for s, v in sorted(speakers.items())},
            "seconds_per_clip": (time.perf_counter() - t0) / len(clips), "misses": misses}  # fmt: skip


def _cli(clips: list[tuple[Path, str]], hint: str) -> dict[str, Any]:
    """One ``sensorium transcribe`` process over the clips, start-up included."""
    cmd = [sys.executable, "-m", "sensorium", "transcribe", "--json", "--hint", hint]
    t0 = time.perf_counter()
    out = subprocess.run(cmd + [str(p) for p, _ in clips], capture_output=True, text=True,
                         env=os.environ.copy(), check=False)  # fmt: skip
    wall = time.perf_counter() - t0
    heard = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    ok = sum(found(w, h.get("text", "")) for (_, w), h in zip(clips, heard))
    return {"clips": len(clips), "wall_s": wall, "seconds_per_clip": wall / len(clips),
            "found": ok / len(clips), "rc": out.returncode,
            "command": f'sensorium transcribe --json --hint "{hint}" <{len(clips)} clips>'}  # fmt: skip


def digits() -> dict[str, Any]:
    takes = int(os.environ.get("SENSORIUM_DIGIT_TAKES", "50"))
    clips = _digits(takes)
    return {"clips": len(clips), "takes": takes, "no_hint": _found(clips, None),
            "hint": _found(clips, HINT), "cli": _cli(clips[::max(1, len(clips) // 100)][:100], HINT)}  # fmt: skip


def run() -> dict[str, Any]:
    return {"imagenet": imagenet(), "digits": digits(),
            "no_invented_text": [no_invented_text("base"), no_invented_text("tiny.en")]}  # fmt: skip


def markdown(data: dict[str, Any]) -> list[str]:
    im, dg = data["imagenet"], data["digits"]
    m = data["machine"]
    rows = [("classifier alone, resize 256 / crop 224 (reference)", im["classifier_crop"]),
            ("classifier alone, squashed to 224 x 224", im["classifier_squash"]),
            ("`classify`, the engine's 1000 names", im["classify_engine_names"]),
            ("`classify`, ImageNet's folder names (WordNet's first)", im["classify_folder_names"])]  # fmt: skip
    lines = [
        "## What the models know, on the development halves",
        "",
        f"`python -m benchmarks.run --only devsets` on {m['cpu']}, {m['cores']} cores, "
        f"{m['date']}. Data: `../shared/data` (never in the repository; the other halves are "
        "held out).",
        "",
        f"Zero-shot on `imagenet-dev` ({im['photos']} photos) against all 1000 class names:",
        "",
        "| what | top-1 | top-5 |",
        "|---|---|---|",
        *[f"| {w} | {r['top1']:.3f} | {r['top5']:.3f} |" for w, r in rows],
        "",
        f"Spoken digits on `fsdd-dev` ({dg['clips']} clips, three speakers), Whisper base:",
        "",
        "| hint | found | by speaker | s a clip in process |",
        "|---|---|---|---|",
    ]
    for key, label in (("no_hint", "none"), ("hint", "the ten digit words")):
        r = dg[key]
        speakers = ", ".join(f"{s} {v:.2f}" for s, v in r["by_speaker"].items())
        lines.append(
            f"| {label} | **{r['found']:.3f}** | {speakers} | {r['seconds_per_clip']:.2f} |"
        )
    cli = dg["cli"]
    lines += ["", f"One `{cli['command']}` process: {cli['seconds_per_clip']:.2f} s a clip with "
              f"start-up and model load ({cli['wall_s']:.1f} s for {cli['clips']}), found "
              f"{cli['found']:.2f}.", ""]  # fmt: skip
    for n in data["no_invented_text"]:
        lines.append(f"No words invented, {n['model']}: {round(n['empty'] * n['clips'])}/"
                     f"{n['clips']} Tux Paint effects and synthetic clips give empty text.")  # fmt: skip
    return [*lines, ""]
