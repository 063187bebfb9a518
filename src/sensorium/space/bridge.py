"""Label bridges: a classifier's class scores -> a vector in the text space, and -> any labels.

A bridge keeps the text embeddings of its classes' prompts, ``E`` (C, 384). An input whose
classifier gives scores ``p`` (C,) is placed at ``normalise(sum_top_k(p ** (1/T) * E))``.
A temperature below 1 sharpens the posterior (the top classes dominate); ``top_k`` drops the
long tail of small probabilities that otherwise pulls every vector towards the mean.

A bridge also maps the classifier's posterior straight onto a list of labels (``onto_labels``),
so that zero-shot classification keeps what the classifier knows: each class hands its
probability to the labels that name it (cosine of the class's and the label's prompts,
through a sharp softmax over the labels; a label that is exactly a class name takes all of
that class's probability), and ``coverage`` says how much of the posterior the labels name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensorium.encoders.base import l2_normalize

__all__ = ["BridgeOptions", "LabelBridge", "LabelMapOptions", "OntoLabels"]


@dataclass(frozen=True)
class BridgeOptions:
    top_k: int = 10  # classes kept per input
    temperature: float = 0.5  # p ** (1 / temperature), renormalised; < 1 sharpens

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.temperature <= 0:
            raise ValueError(f"bad bridge options: {self}")


@dataclass(frozen=True)
class LabelMapOptions:
    # Chosen on openclipart's even files (benchmarks/zeroshot.py); the odd ones are held out.
    temperature: float = 0.03  # softmax over labels of the class-label cosine; sharp
    low: float = 0.5  # a class whose best label is at most this similar names none of them
    high: float = 0.8  # ... at least this similar: the label names it fully
    top_k: int = 5  # classes of the posterior that are handed on (the rest is the tail)

    def __post_init__(self) -> None:
        if self.temperature <= 0 or not 0 <= self.low < self.high or self.top_k < 1:
            raise ValueError(f"bad label map options: {self}")


@dataclass(frozen=True)
class OntoLabels:
    mass: np.ndarray  # (N, L) posterior mass handed to each label; a row sums to its coverage
    coverage: np.ndarray  # (N,) posterior mass of the classes the labels name, in [0, 1]


def _norm(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").split())


class LabelBridge:
    def __init__(self, classes: list[str], class_vectors: np.ndarray, options: BridgeOptions):
        if len(classes) != len(class_vectors):
            raise ValueError("one vector per class is needed")
        self.classes = classes
        self.vectors = class_vectors  # (C, D), rows L2-normalised
        self.options = options

    def weights(self, scores: np.ndarray) -> np.ndarray:
        """(N, C) class scores -> (N, C) sparse weights summing to 1 per row."""
        k = min(self.options.top_k, scores.shape[1])
        sharp = np.power(np.maximum(scores, 0.0), 1.0 / self.options.temperature)
        cut = np.partition(sharp, -k, axis=1)[:, -k][:, None]  # (N, 1) k-th largest
        sharp = np.where(sharp >= cut, sharp, 0.0)
        return sharp / np.maximum(sharp.sum(1, keepdims=True), 1e-12)

    def bind(self, scores: np.ndarray) -> np.ndarray:
        """(N, C) -> (N, D) L2-normalised vectors in the text space."""
        return l2_normalize(self.weights(scores) @ self.vectors)

    def top_labels(self, scores: np.ndarray, n: int = 5) -> list[list[tuple[str, float]]]:
        """The ``n`` best classes per row with their raw scores, for explanations."""
        order = np.argsort(-scores, axis=1)[:, :n]
        return [[(self.classes[j], float(row[j])) for j in idx] for row, idx in zip(scores, order)]

    def onto_labels(
        self,
        scores: np.ndarray,
        labels: list[str],
        label_vectors: np.ndarray,
        class_vectors: np.ndarray,
        options: LabelMapOptions = LabelMapOptions(),
    ) -> OntoLabels:
        """(N, C) class scores -> the posterior mass each of ``labels`` (L,) takes.

        ``label_vectors`` (L, D) and ``class_vectors`` (C, D) are L2-normalised embeddings of
        the labels and the class names, phrased alike. A label equal to a class name (case
        and spacing aside) takes all of that class's score, so it never scores below the
        classifier's own probability; the other ``top_k`` classes hand on their score times how
        well their best label names them (cosine ``low`` -> 0, ``high`` -> 1), split over the
        labels by ``softmax(cosine / temperature)``. What is not handed on (the coverage's
        complement) is for the caller to place, e.g. by the shared space's scores."""
        k = min(options.top_k, scores.shape[1])
        top = np.argsort(-scores, axis=1)[:, :k]  # (N, k) the classes handed on
        used = np.unique(top)  # (U,) only these need similarities
        sim = class_vectors[used] @ label_vectors.T  # (U, L)
        share = np.exp((sim - sim.max(1, keepdims=True)) / options.temperature)
        share /= share.sum(1, keepdims=True)  # (U, L) rows sum to 1
        names = {_norm(lb): j for j, lb in enumerate(labels)}
        named = np.array([_norm(self.classes[c]) in names for c in used])  # (U,) exact names
        for u in np.flatnonzero(named):
            exact = [j for j, lb in enumerate(labels) if _norm(lb) == _norm(self.classes[used[u]])]
            share[u] = 0.0
            share[u, exact] = 1.0 / len(exact)
        best = np.where(named, 1.0, sim.max(1))  # (U,) how well the labels name each class
        fit = np.clip((best - options.low) / (options.high - options.low), 0.0, 1.0)
        row = {c: u for u, c in enumerate(used)}
        mass = np.zeros((len(scores), len(labels)), np.float32)
        for i, classes in enumerate(top):
            idx = [row[c] for c in classes]
            handed = np.clip(scores[i, classes], 0.0, 1.0) * fit[idx]  # (k,)
            mass[i] = handed @ share[idx]
        return OntoLabels(mass, np.minimum(mass.sum(1), 1.0))
