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
