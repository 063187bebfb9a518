"""Learned adapters: encoder features plus the bridge vector -> the text space (numpy).

``v = normalize(W @ [features; bridge] + b)``. Training starts from ``W = [0, I]``, ``b = 0``,
i.e. from the bridge itself, so an adapter can only move away from the bridge where paired data
says so. They are trained by ``sensorium train adapter`` (``sensorium.fusion.adapter``, torch);
applying one needs numpy only. A file is checked against the sha256 given with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensorium.encoders.base import l2_normalize
from sensorium.errors import ChecksumError, UsageError

__all__ = ["LinearAdapter"]


@dataclass(frozen=True)
class LinearAdapter:
    weight: np.ndarray  # (384, D + 384)
    bias: np.ndarray  # (384,)
    modality: str  # "image" (EfficientNet features, 1280) | "sound" (YAMNet scores, 521)

    @property
    def feature_dim(self) -> int:
        return int(self.weight.shape[1] - self.weight.shape[0])

    def apply(self, features: np.ndarray, bridge: np.ndarray) -> np.ndarray:
        """(N, D) features and (N, 384) bridge vectors -> (N, 384), rows L2-normalised."""
        if features.shape[1] != self.feature_dim:
            raise UsageError(f"{self.modality} adapter expects {self.feature_dim} features, "
                             f"got {features.shape[1]}")  # fmt: skip
        x = np.concatenate([features, bridge], axis=1).astype(np.float32)  # (N, D + 384)
        return l2_normalize(x @ self.weight.T + self.bias)

    def save(self, path: Path) -> str:
        """Write the adapter; returns its sha256 (to pin it in a card or a config)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            np.savez(f, weight=self.weight.astype(np.float32), bias=self.bias.astype(np.float32),
                     modality=np.array(self.modality))  # fmt: skip
        return hashlib.sha256(path.read_bytes()).hexdigest()

    @classmethod
    def load(cls, path: Path, sha256: str | None = None) -> LinearAdapter:
        data = path.read_bytes()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ChecksumError(f"{path}: sha256 differs from {sha256}; not loaded")
        with np.load(path, allow_pickle=False) as z:
            return cls(z["weight"], z["bias"], str(z["modality"]))
