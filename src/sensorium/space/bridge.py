"""Label bridges: a classifier's class scores -> a vector in the text space.

A bridge keeps the text embeddings of its classes' prompts, ``E`` (C, 384). An input whose
classifier gives scores ``p`` (C,) is placed at ``normalise(sum_top_k(p ** (1/T) * E))``.
A temperature below 1 sharpens the posterior (the top classes dominate); ``top_k`` drops the
long tail of small probabilities that otherwise pulls every vector towards the mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensorium.encoders.base import l2_normalize

__all__ = ["BridgeOptions", "LabelBridge"]


@dataclass(frozen=True)
class BridgeOptions:
    top_k: int = 10  # classes kept per input
    temperature: float = 0.5  # p ** (1 / temperature), renormalised; < 1 sharpens

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.temperature <= 0:
            raise ValueError(f"bad bridge options: {self}")


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
