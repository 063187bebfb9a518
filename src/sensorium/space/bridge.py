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

from collections.abc import Sequence
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


def _norm(name: str, case: bool = False) -> str:
    name = " ".join(name.replace("_", " ").split())
    return name if case else name.lower()


def _tiers(name: str, aliases: Sequence[str]) -> list[tuple[set[str], bool]]:
    """A class's names as a label may give them, from the surest to the loosest match: its
    own names (the clean name and the first alias) as written, then in any case, then every
    alias as written, then in any case. ImageNet needs each step: "Cardigan" (the corgi) is
    not "cardigan" (the sweater), and "missile" is an alias of "projectile" but also a class
    of its own."""
    own = [name, *aliases[:1]]
    return [({_norm(n, case) for n in names}, case)
            for names in (own, list(aliases)) for case in (True, False)]  # fmt: skip


class LabelBridge:
    def __init__(
        self,
        classes: list[str],
        class_vectors: np.ndarray,
        options: BridgeOptions,
        aliases: Sequence[Sequence[str]] = (),
    ) -> None:
        """``aliases``: per class, the other names it goes by (ImageNet's synonyms: "water
        ouzel" and "dipper" for "American dipper"); a label equal to one names the class."""
        if len(classes) != len(class_vectors) or (aliases and len(aliases) != len(classes)):
            raise ValueError("one vector (and one list of aliases) per class is needed")
        self.classes = classes
        self.vectors = class_vectors  # (C, D), rows L2-normalised
        self.options = options
        # The names a label may equal to name a class, most specific first (see ``_named``).
        self.tiers = [_tiers(c, more) for c, more in zip(classes, aliases or [()] * len(classes))]

    def _named(self, labels: list[str]) -> dict[int, list[int]]:
        """Class index -> the labels (indices) that name it, by the surest tier any reaches."""
        as_written: dict[str, list[int]] = {}
        any_case: dict[str, list[int]] = {}
        for j, label in enumerate(labels):
            as_written.setdefault(_norm(label, True), []).append(j)
            any_case.setdefault(_norm(label), []).append(j)
        out: dict[int, list[int]] = {}
        for c, tiers in enumerate(self.tiers):
            for names, case in tiers:
                index = as_written if case else any_case
                found = sorted({j for n in names for j in index.get(n, ())})
                if found:
                    out[c] = found
                    break
        return out

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
        the labels and the class names, phrased alike. A label equal to a class name or alias
        (``_tiers``) takes all of that class's score, whatever its rank, so it never scores
        below the classifier's own probability; the other ``top_k`` classes hand on their score
        times how well their best label names them (cosine ``low`` -> 0, ``high`` -> 1), split
        over the labels by ``softmax(cosine / temperature)``. What is not handed on (the coverage's
        complement) is for the caller to place, e.g. by the shared space's scores."""
        exact = self._named(labels)  # class -> the labels that name it exactly
        mass = np.zeros((len(scores), len(labels)), np.float32)  # (N, L)
        for c, js in exact.items():  # a named class hands on its whole score, at any rank
            mass[:, js] += np.clip(scores[:, c], 0.0, 1.0)[:, None] / len(js)
        k = min(options.top_k, scores.shape[1])
        top = np.argsort(-scores, axis=1)[:, :k]  # (N, k) the classes handed on by likeness
        used = np.array([c for c in np.unique(top) if c not in exact], dtype=int)  # (U,)
        if not len(used):
            return OntoLabels(mass, np.minimum(mass.sum(1), 1.0))
        sim = class_vectors[used] @ label_vectors.T  # (U, L)
        share = np.exp((sim - sim.max(1, keepdims=True)) / options.temperature)
        share /= share.sum(1, keepdims=True)  # (U, L) rows sum to 1
        fit = np.clip((sim.max(1) - options.low) / (options.high - options.low), 0.0, 1.0)
        row = {c: u for u, c in enumerate(used)}
        for i, classes in enumerate(top):
            idx = [row[c] for c in classes if c in row]
            handed = np.clip(scores[i, used[idx]], 0.0, 1.0) * fit[idx]  # (k',)
            mass[i] += handed @ share[idx]
        return OntoLabels(mass, np.minimum(mass.sum(1), 1.0))
