"""``sensorium.embed``, ``embed_text`` and ``summarize``: anything -> the shared space; and
``model_cards``: the model registry as JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from sensorium import media, models
from sensorium.engine import Engine, default_engine
from sensorium.errors import DecodeError
from sensorium.media.types import MediaKind
from sensorium.video import VideoAnalysis, analyze

__all__ = ["embed", "embed_text", "model_cards", "summarize"]


def embed(paths: Iterable[str | Path], engine: Engine | None = None) -> np.ndarray:
    """Files of any kind -> (N, 384) float32 in the shared space, rows L2-normalised.

    A video's row is its duration-weighted mean over its segments (see ``summarize``).
    Raises a ``MediaError`` naming the first file that cannot be decoded.
    """
    space = (engine or default_engine()).space
    files = [Path(p) for p in paths]
    rows: list[np.ndarray | None] = [None] * len(files)
    others: list[tuple[int, media.Media]] = []
    for i, p in enumerate(files):
        kind = media.sniff(p)
        if kind is MediaKind.VIDEO:
            rows[i] = analyze(p, space).vector
        else:
            others.append((i, media.decode(p, kind)))
    if others:
        for (i, _), e in zip(others, space.embed([m for _, m in others])):
            rows[i] = e.vector
    if not files:
        return np.zeros((0, 384), np.float32)
    return np.stack([r for r in rows if r is not None])


def embed_text(texts: Iterable[str], engine: Engine | None = None) -> np.ndarray:
    """Strings -> (N, 384) float32 in the shared space."""
    return (engine or default_engine()).space.text.encode(list(texts))


def summarize(
    path: str | Path,
    fps: float = 1.0,
    keyframes: bool = True,
    on_frame: Callable[[float], None] = lambda _: None,
    engine: Engine | None = None,
) -> VideoAnalysis:
    """A video's timeline: segments with what is seen, heard and said, and its embedding.

    ``sensorium.video.summary_json(result)`` gives it as JSON, ``contact_sheet(result, png)``
    as a picture. A file with no video stream raises ``DecodeError``.
    """
    path = Path(path)
    kind = media.sniff(path)
    if kind is not MediaKind.VIDEO:
        raise DecodeError(path, f"not a video: it holds {kind.value} only")
    space = (engine or default_engine()).space
    return analyze(path, space, fps=fps, keyframes=keyframes, on_frame=on_frame)


def model_cards() -> list[dict[str, Any]]:
    """Every model card as JSON, with ``ready``: installed and verified (None for a hub
    model, which is fetched by its hub)."""
    return [
        {"name": c.name, "modality": c.modality, "task": c.task, "dim": c.dim,
         "licence": c.licence, "hub": c.hub, "packages": list(c.packages),
         "ready": models.is_ready(c) if c.offline else None}
        for c in models.list_cards()
    ]  # fmt: skip
