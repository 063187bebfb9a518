"""Hybrid (intermediate) fusion: an encoder per modality, joined at an intermediate layer.

Each modality goes through its own two layers; the present ones are pooled (mean) and the
pattern of which are present is appended, then shared layers finish the job.
"""

from __future__ import annotations

import torch
from torch import nn

from sensorium.fusion.base import Fusion, FusionOutput, Inputs, Masks, masked_mean, stack_mask

__all__ = ["HybridFusion"]


class HybridFusion(Fusion):
    def __init__(self, dims: dict[str, int], classes: int, hidden: int = 128, dropout: float = 0.2):
        super().__init__(dims, classes, hidden, dropout)
        self.encode = nn.ModuleDict({
            m: nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout))
            for m in self.modalities
        })  # fmt: skip
        m = len(self.modalities)
        self.joint = nn.Sequential(
            nn.Linear(hidden + m, hidden), nn.GELU(), nn.Dropout(dropout), nn.LayerNorm(hidden)
        )
        self.head = nn.Linear(hidden, classes)

    def forward(self, inputs: Inputs, mask: Masks) -> FusionOutput:
        present = stack_mask(mask, self.modalities)  # (B, M)
        proj = self.projected(inputs, present)  # (B, M, H)
        enc = self.each(self.encode, proj)  # (B, M, H)
        pooled = masked_mean(enc, present)  # (B, H): the intermediate join
        z = self.joint(torch.cat([pooled, present.to(pooled.dtype)], dim=1))
        return FusionOutput(self.head(z), z, self.named(enc))
