"""Learned adapters: encoder features plus the bridge vector -> the text space (numpy).

``v = normalize(W @ [features; bridge] + b)``. Training starts from ``W = [0, I]``, ``b = 0``,
i.e. from the bridge itself, so an adapter can only move away from the bridge where paired data
says so. They are trained by ``sensorium train adapter`` (``sensorium.fusion.adapter``, torch);
applying one needs numpy only. A file is checked against the sha256 given with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sensorium.encoders.base import l2_normalize
from sensorium.errors import ChecksumError, UsageError
from sensorium.models import get_card, install, is_ready, model_path

__all__ = ["ADAPTER_CARDS", "LinearAdapter", "bundled"]

ADAPTER_CARDS = {"image": "adapter-image-tuxpaint", "sound": "adapter-sound-tuxpaint"}


@dataclass(frozen=True)
class LinearAdapter:
    weight: np.ndarray  # (384, D + 384)
    bias: np.ndarray  # (384,)
    modality: str  # "image" (EfficientNet features, 1280) | "sound" (YAMNet scores, 521)
    source: str = ""  # the card or file it was loaded from, recorded with what it embeds

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
        # float16 halves the file (1.3 MB for the image adapter); R@1 is unchanged by it.
        with path.open("wb") as f:
            np.savez(f, weight=self.weight.astype(np.float16), bias=self.bias.astype(np.float16),
                     modality=np.array(self.modality))  # fmt: skip
        return hashlib.sha256(path.read_bytes()).hexdigest()

    @classmethod
    def load(cls, path: Path, sha256: str | None = None) -> LinearAdapter:
        data = path.read_bytes()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ChecksumError(f"{path}: sha256 differs from {sha256}; not loaded")
        with np.load(path, allow_pickle=False) as z:
            return cls(z["weight"].astype(np.float32), z["bias"].astype(np.float32),
                       str(z["modality"]), source=str(path))  # fmt: skip


def bundled(modality: str) -> LinearAdapter:
    """The adapter this package ships for ``modality`` ("image" | "sound"), trained on all Tux
    Paint pairs; copied into the model cache and verified against its card's sha256."""
    if modality not in ADAPTER_CARDS:
        shipped = ", ".join(ADAPTER_CARDS)
        raise UsageError(f"no adapter ships for {modality!r}; there are: {shipped}")
    card = get_card(ADAPTER_CARDS[modality])
    if not is_ready(card):
        install([card])  # a local copy out of the package: no download
    path = model_path(card.name) / card.files[0].dest  # model_path verifies the sha256
    return replace(LinearAdapter.load(path), source=card.name)
