"""Zero-shot classification of any medium against any labels, through the shared space.

An image placed by the offline classifier (EfficientNet-Lite0) keeps what that classifier
knows: its posterior is handed to the labels that name its classes (``LabelBridge.
onto_labels``: a label that is a class name takes that class's whole probability), and only
the mass the labels do not name is placed by the shared space's scores. So a label list that
names ImageNet classes never scores below the classifier itself, and free-form labels
("astronaut", "a red car") still get the shared space's answer.

ImageNet has no class for a person, so the classifier cannot say that a photo shows one (it
calls an astronaut "bobsleigh" or "football helmet"). Where a label names a person and the face
detector finds a face it is sure of, that label takes the face's score (``_with_faces``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from sensorium.engine import Engine, default_engine
from sensorium.errors import MediaError, ModelError, UsageError
from sensorium.media.types import ImageMedia, Media, MediaKind
from sensorium.perceive.inputs import decode_all, expand_paths, is_video
from sensorium.perceive.results import Classification
from sensorium.space import SharedSpace
from sensorium.space.bridge import LabelMapOptions
from sensorium.space.prompts import phrase
from sensorium.space.space import LOGIT_SCALE, Embedded, cached_vectors
from sensorium.video import analyze

__all__ = ["classify", "iter_classify"]

CHUNK = 32  # files decoded and embedded together: bounds memory, keeps batches full


MAPPING = LabelMapOptions()  # how the image classifier's posterior is handed to labels
# Labels that name a person, whatever the article or plural ("a person", "people", "Women")
PERSON_WORDS = frozenset({"person", "people", "human", "humans", "man", "men", "woman", "women",
                          "child", "children", "kid", "kids", "boy", "boys", "girl", "girls",
                          "baby", "babies", "face", "faces", "portrait", "selfie"})  # fmt: skip
# A face found with this score shows a person. Astronaut Eileen Collins' face scores 0.917;
# Tux Paint's gorilla and singing dinosaur, the animal faces that BlazeFace finds, 0.71 and 0.77.
SURE_FACE = 0.85


def _softmax(logits: np.ndarray) -> np.ndarray:
    """(..., L) logits -> probabilities over the last axis."""
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _ranked(path: str, scores: np.ndarray, labels: list[str], top: int) -> Classification:
    """(L,) probabilities -> the ``top`` labels with their scores, best first."""
    order = np.argsort(-scores)[:top]
    return Classification(path, [(labels[i], float(scores[i])) for i in order])


class _Labels:
    """The labels of one call, embedded once (not once per chunk)."""

    def __init__(self, space: SharedSpace, labels: list[str]) -> None:
        self.names = labels
        self.space = space
        self.image = space.embed_labels(MediaKind.IMAGE, labels)  # (L, 384)

    def image_scores(self, items: list[Embedded]) -> np.ndarray:
        """(n,) images placed by the offline classifier -> (n, L) probabilities: the
        posterior the labels name, the rest by the shared space's scores."""
        space = self.space
        bridge = space.image_bridge
        shared = _softmax(LOGIT_SCALE * np.stack([e.vector for e in items]) @ self.image.T)
        posterior = np.stack([e.class_scores for e in items if e.class_scores is not None])
        onto = bridge.onto_labels(posterior, self.names, self.image, _class_vectors(space),
                                  MAPPING)  # fmt: skip
        return onto.mass + (1.0 - onto.coverage)[:, None] * shared


def _class_vectors(space: SharedSpace) -> np.ndarray:
    """(C, 384) the image classes' names phrased as labels are ("a photo of a {name}.")."""
    return cached_vectors(phrase(MediaKind.IMAGE, space.image_bridge.classes), space.text.encode)


def _by_classifier(space: SharedSpace, e: Embedded) -> bool:
    """Placed by the offline image classifier, whose posterior the labels can take."""
    return (e.kind is MediaKind.IMAGE and space.hub_encoder(e.kind) is None
            and e.class_scores is not None)  # fmt: skip


def _classify_chunk(space: SharedSpace, decoded: list[tuple[Path, Media]], labels: _Labels,
                    top: int) -> list[Classification]:  # fmt: skip
    embedded = space.embed([m for _, m in decoded])
    scores = np.zeros((len(embedded), len(labels.names)), np.float32)  # (N, L)
    mapped = [i for i, e in enumerate(embedded) if _by_classifier(space, e)]
    rest = [i for i in range(len(embedded)) if i not in set(mapped)]
    if mapped:
        scores[mapped] = labels.image_scores([embedded[i] for i in mapped])
    if rest:
        scores[rest] = _softmax(space.label_logits([embedded[i] for i in rest], labels.names))
    scores = _with_faces(space, [m for _, m in decoded], scores, labels.names)
    return [_ranked(e.path, row, labels.names, top) for e, row in zip(embedded, scores)]


def _person_labels(labels: list[str]) -> list[int]:
    """The indices of the labels that name a person."""
    words = [lb.lower().removeprefix("a ").removeprefix("an ").strip() for lb in labels]
    return [i for i, w in enumerate(words) if w in PERSON_WORDS]


def _with_faces(space: SharedSpace, media: list[Media], scores: np.ndarray,
                labels: list[str]) -> np.ndarray:  # fmt: skip
    """(N, L) scores with each person label raised to the score of the surest face found in
    the image, where that face is at least SURE_FACE; the other labels share the rest in
    their proportions. Unchanged where no label names a person or the detector is absent."""
    people = _person_labels(labels)
    images = [i for i, m in enumerate(media) if isinstance(m, ImageMedia)]
    if not people or not images:
        return scores
    try:
        reader = space.face_reader
    except (ModelError, ImportError):  # faces are an extra: without it, the classifier's word
        return scores
    out = scores.copy()
    for i, reading in zip(images, reader.read([media[i] for i in images])):  # type: ignore[misc]
        face = max((f.score for f in reading.faces), default=0.0)
        best = max(float(out[i, people].max()), face)
        if face < SURE_FACE or best <= out[i, people].sum():
            continue
        others = [j for j in range(out.shape[1]) if j not in people]
        rest = out[i, others].sum()
        out[i, people] = best / len(people)
        if rest > 0:
            out[i, others] *= (1.0 - best) / rest
    return out


def _classify_video(space: SharedSpace, path: Path, labels: list[str], top: int) -> Classification:
    """A video as a whole: its duration-weighted segment mix of what is seen, heard and said."""
    try:
        vector = analyze(path, space).vector
    except MediaError as e:
        return Classification(str(path), error=e.cause, error_kind=e.kind)
    logits = LOGIT_SCALE * space.embed_labels(MediaKind.VIDEO, labels) @ vector  # (L,)
    return _ranked(str(path), _softmax(logits), labels, top)


def iter_classify(
    inputs: Iterable[str | Path],
    labels: list[str],
    top: int = 5,
    engine: Engine | None = None,
    on_done: Callable[[int], None] = lambda _: None,
) -> Iterator[Classification]:
    """Stream results in input order, CHUNK files at a time."""
    labels = [lb.strip() for lb in labels if lb.strip()]
    if not labels:
        raise UsageError("give at least one label")
    if top < 1:
        raise UsageError("--top must be at least 1")
    space = (engine or default_engine()).space
    paths = expand_paths(inputs)
    embedded_labels: _Labels | None = None
    for start in range(0, len(paths), CHUNK):
        results: dict[str, Classification] = {}
        good: list[tuple[Path, Media]] = []
        chunk = paths[start : start + CHUNK]
        videos = [p for p in chunk if is_video(p)]  # seen, heard and said: the video layer
        for path in videos:
            results[str(path)] = _classify_video(space, path, labels, top)
        for path, item in decode_all([p for p in chunk if p not in videos]):
            if isinstance(item, MediaError):
                results[str(path)] = Classification(str(path), error=item.cause,
                                                              error_kind=item.kind)
            else:
                good.append((path, item))
        if good:
            embedded_labels = embedded_labels or _Labels(space, labels)
            for (path, _), r in zip(good, _classify_chunk(space, good, embedded_labels, top)):
                results[str(path)] = r
        for path in paths[start : start + CHUNK]:
            yield results[str(path)]
        on_done(len(paths[start : start + CHUNK]))


def classify(
    inputs: Iterable[str | Path], labels: list[str], top: int = 5, engine: Engine | None = None
) -> list[Classification]:
    """Classify files (or folders, or globs) against ``labels``; one result per file."""
    return list(iter_classify(inputs, labels, top, engine))
