"""Learned adapters against the label bridges on held-out Tux Paint pairs: photo↔caption and
sound effect↔caption, split by item and by category (``sensorium.fusion.adapter``, the same
code ``sensorium train adapter`` runs)."""

from __future__ import annotations

from typing import Any

from sensorium.fusion.adapter import compare, tuxpaint_pairs


def run() -> dict[str, Any]:
    return {m: compare(tuxpaint_pairs(m)) for m in ("image", "sound")}
