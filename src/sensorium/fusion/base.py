"""The fusion interface: per-modality inputs and masks in, one fused representation out.

Every method takes ``inputs: {modality: (B, D_m) tensor}`` and ``mask: {modality: (B,) bool}``
(True where the modality is present). A row of a missing modality may hold anything, zeros or
garbage: it is never read into the result, so no NaN and no silent zero vector stands in for
data. Each sample must have at least one modality present.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["Fusion", "FusionOutput", "Inputs", "Masks", "masked_mean", "projection", "stack_mask"]

Inputs = dict[str, Tensor]  # modality -> (B, D_m)
Masks = dict[str, Tensor]  # modality -> (B,) bool, True = present


@dataclass
class FusionOutput:
    logits: Tensor  # (B, C)
    embedding: Tensor  # (B, H) the fused representation before the classifier
    modality_embeddings: dict[str, Tensor]  # modality -> (B, H), for contrastive pre-alignment
    gates: Tensor | None = None  # (B, M) weight of each modality, 0 where missing


def projection(dim_in: int, hidden: int, dropout: float) -> nn.Sequential:
    """(B, D_m) -> (B, H): normalise the encoder's scale, then project."""
    return nn.Sequential(
        nn.LayerNorm(dim_in), nn.Linear(dim_in, hidden), nn.GELU(), nn.Dropout(dropout)
    )


def stack_mask(mask: Masks, modalities: tuple[str, ...]) -> Tensor:
    """{m: (B,)} -> (B, M) bool in ``modalities`` order; refuses a sample with none present."""
    m = torch.stack([mask[name].bool() for name in modalities], dim=1)
    if not bool(m.any(dim=1).all()):
        raise ValueError("every sample needs at least one modality present")
    return m


def masked_mean(values: Tensor, present: Tensor) -> Tensor:
    """(B, M, H) and (B, M) bool -> (B, H): mean over the present modalities only."""
    here = present.unsqueeze(-1)  # (B, M, 1)
    total = torch.where(here, values, 0.0).sum(1)
    return total / here.sum(1).clamp_min(1).to(values.dtype)


class Fusion(nn.Module):
    """Base of every fusion method: ``forward(inputs, mask) -> FusionOutput``."""

    def __init__(self, dims: dict[str, int], classes: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.modalities = tuple(sorted(dims))
        self.dims, self.classes, self.hidden = dict(dims), classes, hidden
        self.project = nn.ModuleDict(
            {m: projection(dims[m], hidden, dropout) for m in self.modalities}
        )

    def projected(self, inputs: Inputs, present: Tensor) -> Tensor:
        """(B, M, H): each modality projected. A missing row is replaced before (so garbage,
        even NaN, never enters a layer or a gradient) and zeroed after; callers still mask."""
        out = []
        for i, m in enumerate(self.modalities):
            here = present[:, i : i + 1]  # (B, 1)
            x = torch.where(here, inputs[m], torch.zeros((), dtype=inputs[m].dtype))
            out.append(torch.where(here, self.project[m](x), 0.0))
        return torch.stack(out, dim=1)

    def each(self, modules: nn.ModuleDict, x: Tensor) -> Tensor:
        """(B, M, H) -> (B, M, K): each modality's slice through its own module."""
        return torch.stack([modules[m](x[:, i]) for i, m in enumerate(self.modalities)], dim=1)

    def named(self, x: Tensor) -> dict[str, Tensor]:
        """(B, M, H) -> {modality: (B, H)}."""
        return {m: x[:, i] for i, m in enumerate(self.modalities)}

    def forward(self, inputs: Inputs, mask: Masks) -> FusionOutput:  # pragma: no cover
        raise NotImplementedError

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
