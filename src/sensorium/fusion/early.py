"""Early fusion: the projected inputs concatenated, a learned placeholder for a missing one."""

from __future__ import annotations

import torch
from torch import nn

from sensorium.fusion.base import Fusion, FusionOutput, Inputs, Masks, stack_mask

__all__ = ["EarlyFusion"]


class EarlyFusion(Fusion):
    def __init__(self, dims: dict[str, int], classes: int, hidden: int = 128, dropout: float = 0.2):
        super().__init__(dims, classes, hidden, dropout)
        m = len(self.modalities)
        # A missing modality is a learned vector, never zeros that look like data.
        self.placeholder = nn.Parameter(torch.randn(m, hidden) * 0.02)  # (M, H)
        self.joint = nn.Sequential(
            nn.Linear(m * hidden, hidden), nn.GELU(), nn.Dropout(dropout), nn.LayerNorm(hidden)
        )
        self.head = nn.Linear(hidden, classes)

    def forward(self, inputs: Inputs, mask: Masks) -> FusionOutput:
        present = stack_mask(mask, self.modalities)  # (B, M)
        proj = self.projected(inputs, present)  # (B, M, H)
        filled = torch.where(present.unsqueeze(-1), proj, self.placeholder.to(proj.dtype))
        z = self.joint(filled.flatten(1))  # (B, M*H) -> (B, H)
        return FusionOutput(self.head(z), z, self.named(proj))
