"""Zero-shot classification of any medium against any labels, through the shared space."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from sensorium.errors import MediaError, UsageError
from sensorium.media.types import Media, MediaKind
from sensorium.perceive.inputs import decode_all, expand_paths, is_video
from sensorium.perceive.results import Classification
from sensorium.space import SharedSpace, default_space
from sensorium.space.space import LOGIT_SCALE
from sensorium.video import analyze

__all__ = ["classify", "iter_classify"]

CHUNK = 32  # files decoded and embedded together: bounds memory, keeps batches full


def _ranked(path: str, logits: np.ndarray, labels: list[str], top: int) -> Classification:
    """(L,) logits -> the ``top`` labels with their softmax scores, best first."""
    e = np.exp(logits - logits.max())
    scores = e / e.sum()
    order = np.argsort(-scores)[:top]
    return Classification(path, [(labels[i], float(scores[i])) for i in order])


def _classify_chunk(
    space: SharedSpace, decoded: list[tuple[Path, Media]], labels: list[str], top: int
) -> list[Classification]:
    embedded = space.embed([m for _, m in decoded])
    logits = space.label_logits(embedded, labels)  # (N, L)
    return [_ranked(e.path, row, labels, top) for e, row in zip(embedded, logits)]


def _classify_video(space: SharedSpace, path: Path, labels: list[str], top: int) -> Classification:
    """A video as a whole: its duration-weighted segment mix of what is seen, heard and said."""
    try:
        vector = analyze(path, space).vector
    except MediaError as e:
        return Classification(str(path), error=e.cause)
    logits = LOGIT_SCALE * space.embed_labels(MediaKind.VIDEO, labels) @ vector  # (L,)
    return _ranked(str(path), logits, labels, top)


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
        chunk = paths[start : start + CHUNK]
        videos = [p for p in chunk if is_video(p)]  # seen, heard and said: the video layer
        for path in videos:
            results[str(path)] = _classify_video(space, path, labels, top)
        for path, item in decode_all([p for p in chunk if p not in videos]):
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
