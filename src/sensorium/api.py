"""``sensorium.embed`` and ``sensorium.embed_text``: anything -> the shared space."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sensorium import media
from sensorium.space import default_space

__all__ = ["embed", "embed_text"]


def embed(paths: Iterable[str | Path]) -> np.ndarray:
    """Files of any kind -> (N, 384) float32 in the shared space, rows L2-normalised.

    Raises a ``MediaError`` naming the first file that cannot be decoded.
    """
    items = [media.load(p) for p in paths]
    if not items:
        return np.zeros((0, 384), np.float32)
    return np.stack([e.vector for e in default_space().embed(items)])


def embed_text(texts: Iterable[str]) -> np.ndarray:
    """Strings -> (N, 384) float32 in the shared space."""
    return default_space().text.encode(list(texts))
