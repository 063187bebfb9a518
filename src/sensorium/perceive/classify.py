"""Zero-shot classification of any medium against any labels, through the shared space."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from sensorium.errors import MediaError, UsageError
from sensorium.media.types import Media
from sensorium.perceive.inputs import decode_all, expand_paths
from sensorium.perceive.results import Classification
from sensorium.space import SharedSpace, default_space

__all__ = ["LOGIT_SCALE", "classify", "iter_classify"]

LOGIT_SCALE = 30.0  # cosine -> softmax logits; changes calibration only, never the ranking
CHUNK = 32  # files decoded and embedded together: bounds memory, keeps batches full


def _scores(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N, 384) x (L, 384) -> (N, L) softmax over the labels."""
    logits = LOGIT_SCALE * vectors @ labels.T
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _classify_chunk(
    space: SharedSpace, decoded: list[tuple[Path, Media]], labels: list[str], top: int
) -> list[Classification]:
    embedded = space.embed([m for _, m in decoded])
    label_vectors = {  # (L, 384) per medium present: labels are phrased for each medium
        kind: space.embed_labels(kind, labels) for kind in {e.kind for e in embedded}
    }
    out = []
    for e in embedded:
        scores = _scores(e.vector[None], label_vectors[e.kind])[0]
        order = np.argsort(-scores)[:top]
        out.append(Classification(e.path, [(labels[i], float(scores[i])) for i in order]))
    return out


def iter_classify(
    inputs: Iterable[str | Path],
    labels: list[str],
    top: int = 5,
    space: SharedSpace | None = None,
    on_done: Callable[[int], None] = lambda _: None,
) -> Iterator[Classification]:
    """Stream results in input order, CHUNK files at a time."""
    labels = [lb.strip() for lb in labels if lb.strip()]
    if not labels:
        raise UsageError("give at least one label")
    if top < 1:
        raise UsageError("--top must be at least 1")
    space = space or default_space()
    paths = expand_paths(inputs)
    for start in range(0, len(paths), CHUNK):
        results: dict[str, Classification] = {}
        good: list[tuple[Path, Media]] = []
        for path, item in decode_all(paths[start : start + CHUNK]):
            if isinstance(item, MediaError):
                results[str(path)] = Classification(str(path), error=item.cause)
            else:
                good.append((path, item))
        if good:
            for (path, _), r in zip(good, _classify_chunk(space, good, labels, top)):
                results[str(path)] = r
        for path in paths[start : start + CHUNK]:
            yield results[str(path)]
        on_done(len(paths[start : start + CHUNK]))


def classify(
    inputs: Iterable[str | Path], labels: list[str], top: int = 5, space: SharedSpace | None = None
) -> list[Classification]:
    """Classify files (or folders, or globs) against ``labels``; one result per file."""
    return list(iter_classify(inputs, labels, top, space))
