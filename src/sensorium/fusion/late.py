"""Late fusion: a classifier per modality; the logits of the present ones are averaged.

A missing modality's head is left out of the mean (not given zero logits, which would pull
every class towards uniform), so the output for the present modalities never depends on it.
"""

from __future__ import annotations

from torch import nn

from sensorium.fusion.base import Fusion, FusionOutput, Inputs, Masks, masked_mean, stack_mask

__all__ = ["LateFusion"]


class LateFusion(Fusion):
    def __init__(self, dims: dict[str, int], classes: int, hidden: int = 128, dropout: float = 0.2):
        super().__init__(dims, classes, hidden, dropout)
        self.heads = nn.ModuleDict({m: nn.Linear(hidden, classes) for m in self.modalities})

    def forward(self, inputs: Inputs, mask: Masks) -> FusionOutput:
        present = stack_mask(mask, self.modalities)  # (B, M)
        proj = self.projected(inputs, present)  # (B, M, H)
        logits = self.each(self.heads, proj)  # (B, M, C)
        fused = masked_mean(logits, present)  # (B, C)
        return FusionOutput(fused, masked_mean(proj, present), self.named(proj))
