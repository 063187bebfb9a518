"""Learned adapters against the label bridges: R@1 on held-out Tux Paint pairs (photo↔caption
and sound effect↔caption, split by item and by category; ``sensorium.fusion.adapter``, the
same code ``sensorium train adapter`` runs), and zero-shot accuracy on labelled photos outside
the training data with the shipped image adapter against the bridge."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from benchmarks.quality import PHOTO_LABELS, PHOTO_TRUTH, sample_photos
from sensorium.engine import Engine
from sensorium.eval.datasets import DatasetMissingError, openclipart_labelled
from sensorium.fusion.adapter import compare, tuxpaint_pairs
from sensorium.perceive.classify import iter_classify
from sensorium.space import SharedSpace, SpaceOptions
from sensorium.space.adapter import bundled


def _top1(space: SharedSpace, files: list[Path], truth: list[str], labels: list[str]
          ) -> tuple[float, int]:  # fmt: skip
    """Top-1 accuracy over the files that decode (a few clip-art PNGs are over the pixel
    bound), and how many did."""
    results = zip(iter_classify(files, labels, top=1, engine=Engine(space=space)), truth, strict=True)
    hits = [r.labels[0][0] == t for r, t in results if r.error is None]
    return sum(hits) / len(hits), len(hits)


def _compare(spaces: dict[str, SharedSpace], files: list[Path], truth: list[str],
             labels: list[str]) -> dict[str, Any]:  # fmt: skip
    scored = {name: _top1(s, files, truth, labels) for name, s in spaces.items()}
    return {"n": scored["bridge"][1], "labels": len(labels),
            **{name: acc for name, (acc, _) in scored.items()}}  # fmt: skip


def zero_shot() -> dict[str, Any]:
    """Top-1 with the bridge and with the shipped image adapter, on the same photos."""
    spaces = {"bridge": SharedSpace(),
              "adapter": SharedSpace(SpaceOptions(image_adapter=bundled("image")))}  # fmt: skip
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        photos = sample_photos(Path(tmp))
        truth = [PHOTO_TRUTH[n] for n in photos]
        out["sample_photos"] = _compare(spaces, list(photos.values()), truth, PHOTO_LABELS)
    try:
        clipart = openclipart_labelled()
    except DatasetMissingError as e:
        out["openclipart"] = {"skipped": str(e)}
        return out
    labels = sorted({label for _, label in clipart})
    files, truth = [p for p, _ in clipart], [label for _, label in clipart]
    out["openclipart"] = _compare(spaces, files, truth, labels)
    return out


def run() -> dict[str, Any]:
    out: dict[str, Any] = {m: compare(tuxpaint_pairs(m)) for m in ("image", "sound")}
    out["zero_shot"] = zero_shot()
    return out
