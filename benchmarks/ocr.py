"""Text read in images (``SpaceOptions.ocr``): what it adds to Tux Paint photo ↔ caption
retrieval, how often it reads anything, and what it costs next to the image encoder (both
timed in this run). The bridge vectors are computed once; the text read is mixed in at several
weights with ``SharedSpace.add_written``, the engine's own mixing step."""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from typing import Any

import numpy as np

from sensorium import media
from sensorium.engine import default_engine
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.eval.metrics import recall_at_k
from sensorium.space import SharedSpace, SpaceOptions

NAME = "ocr"  # benchmarks/results/ocr.json, `--only ocr`

WEIGHTS = (0.5, 1.0, 2.0)


def run() -> dict[str, Any]:
    stamps = tuxpaint_stamps()
    images = [media.load_image(s.image) for s in stamps]  # full size, as the engine reads text
    base = default_engine().space
    t0 = time.perf_counter()
    plain = base.embed(images)
    encode_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    readings = base.reader.read(images)
    read_s = time.perf_counter() - t0
    captions = base.text.encode([s.caption for s in stamps])

    def recall(embedded: list[Any]) -> dict[str, float]:
        v = np.stack([e.vector for e in embedded])  # (N, 384)
        return {"image_to_caption": recall_at_k(v @ captions.T)["R@1"],
                "caption_to_image": recall_at_k(captions @ v.T)["R@1"]}  # fmt: skip

    rows = [{"weight": 0.0, **recall(plain)}]
    for w in WEIGHTS:
        space = SharedSpace(replace(base.options, ocr=True, ocr_weight=w))
        space.text = base.text  # type: ignore[misc]  # share the loaded encoder
        mixed = copy.deepcopy(plain)
        space.add_written(mixed, readings)
        rows.append({"weight": w, **recall(mixed)})
    read = [(s.caption, r.text) for s, r in zip(stamps, readings) if r.text]
    return {
        "pairs": len(stamps), "min_confidence": base.reader.min_confidence,
        "shipped_weight": SpaceOptions().ocr_weight, "rows": rows,
        "with_text": len(read), "examples": read,
        "encode_ms_per_image": 1000 * encode_s / len(images),
        "read_ms_per_image": 1000 * read_s / len(images),
    }  # fmt: skip


def markdown(o: dict[str, Any]) -> list[str]:
    lines = [
        "## Text read in images (OCR)",
        "",
        f"`SENSORIUM_OCR=1` (`SpaceOptions(ocr=True)`): PP-OCRv4 reads the text in each image; "
        f"lines scored at least {o['min_confidence']} are embedded and mixed into the image's "
        f"vector, weighted by the reader's confidence times the weight below "
        f"(`benchmarks/ocr.py`). Tux Paint photo ↔ caption R@1, {o['pairs']} pairs; "
        f"text was read in {o['with_text']} stamps:",
        "",
        "| weight of the text read | image → caption R@1 | caption → image R@1 |",
        "|---|---|---|",
    ]
    for r in o["rows"]:
        tag = (
            " (off)"
            if r["weight"] == 0
            else " (shipped)"
            if r["weight"] == o["shipped_weight"]
            else ""
        )
        lines.append(
            f"| {r['weight']}{tag} | {r['image_to_caption']:.3f} | {r['caption_to_image']:.3f} |"
        )
    ratio = o["read_ms_per_image"] / o["encode_ms_per_image"]
    lines += [
        "",
        f"Cost: {o['read_ms_per_image']:.0f} ms an image to read, against "
        f"{o['encode_ms_per_image']:.1f} ms to place it through the image bridge "
        f"({ratio:.0f}x), which is why OCR is off by default. Most stamps hold no writing, and "
        "PP-OCRv4 does not detect a lone large letter (the 122 letter stamps). Every stamp "
        "where text was read, as it was read: some name the stamp (signs, tools), some are "
        "texture or accents read as characters:",
        "",
        *[f"- {cap[:60]} ← read: {text!r}" for cap, text in o["examples"]],
        "",
    ]
    return lines
