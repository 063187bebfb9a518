"""Cross-modal attention with learned gates.

Each modality's vector is projected into ``tokens`` tokens (a short sequence, so that attention
within a modality has something to attend to). Then:

1. self-attention within each modality (a block-diagonal mask),
2. cross-attention: each token attends to the tokens of the *other present* modalities,
3. each modality is pooled to one vector, scored by a gate; the gates are a softmax over the
   present modalities only (a missing one gets exactly 0), and the fused vector is the
   gate-weighted sum. The gates are returned, so a user can see which modality decided.

A sample with one modality present has no one to attend to: the cross-modal block leaves its
tokens unchanged. When every sample of a batch has a single modality, the cross-modal block
is skipped altogether (``fast=True``), which gives the same result for less work.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sensorium.fusion.base import Fusion, FusionOutput, Inputs, Masks, stack_mask

__all__ = ["AttentionFusion"]


class _Block(nn.Module):
    """Pre-norm multi-head attention under a boolean mask, plus a feed-forward layer."""

    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ff = nn.Sequential(
            nn.LayerNorm(hidden), nn.Linear(hidden, 2 * hidden), nn.GELU(),
            nn.Dropout(dropout), nn.Linear(2 * hidden, hidden),
        )  # fmt: skip

    def forward(self, x: Tensor, allowed: Tensor) -> Tensor:
        """x (B, T, H); allowed (B, T, T) bool: may token i attend to token j."""
        b, t, h = x.shape
        any_key = allowed.any(-1, keepdim=True)  # (B, T, 1) a query with no key gets 0
        safe = allowed | ~any_key  # all-False rows would make a softmax of NaN
        q, k, v = self.qkv(self.norm(x)).view(b, t, 3, self.heads, h // self.heads).unbind(2)
        att = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=safe.unsqueeze(1)
        )  # (B, heads, T, H/heads)
        # A token with nothing to attend to passes through unchanged (feed-forward included),
        # so a lone modality is exactly what the fast path gives when it skips this block.
        keep = any_key.to(x.dtype)
        x = x + self.out(att.transpose(1, 2).reshape(b, t, h)) * keep
        return x + self.ff(x) * keep


class AttentionFusion(Fusion):
    def __init__(
        self,
        dims: dict[str, int],
        classes: int,
        hidden: int = 128,
        dropout: float = 0.2,
        tokens: int = 4,
        heads: int = 4,
    ) -> None:
        super().__init__(dims, classes, hidden, dropout)
        m = len(self.modalities)
        self.tokens = tokens
        self.to_tokens = nn.Linear(hidden, tokens * hidden)
        self.position = nn.Parameter(torch.randn(m, tokens, hidden) * 0.02)  # modality + slot
        self.within = _Block(hidden, heads, dropout)
        self.across = _Block(hidden, heads, dropout)
        self.gate = nn.Linear(hidden, 1)
        self.head = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, classes))
        self.fast = True  # skip cross-modal layers when no sample has two modalities

    def forward(self, inputs: Inputs, mask: Masks) -> FusionOutput:
        present = stack_mask(mask, self.modalities)  # (B, M)
        b, m, t = present.shape[0], len(self.modalities), self.tokens
        proj = self.projected(inputs, present)  # (B, M, H)
        x = self.to_tokens(proj).view(b, m, t, self.hidden) + self.position  # (B, M, T, H)
        x = x.view(b, m * t, self.hidden)
        owner = torch.arange(m, device=x.device).repeat_interleave(t)  # (M*T,) token -> modality
        token_present = present[:, owner]  # (B, M*T)
        same = owner[:, None] == owner[None, :]  # (M*T, M*T)
        both = token_present[:, :, None] & token_present[:, None, :]  # (B, M*T, M*T)
        x = self.within(x, both & same)
        if not (self.fast and not self.training and bool((present.sum(1) <= 1).all())):
            x = self.across(x, both & ~same)
        pooled = x.view(b, m, t, self.hidden).mean(2)  # (B, M, H)
        scores = self.gate(pooled).squeeze(-1).masked_fill(~present, float("-inf"))  # (B, M)
        gates = torch.softmax(scores.float(), dim=1).to(pooled.dtype)  # 0 where missing
        fused = (gates.unsqueeze(-1) * torch.where(present.unsqueeze(-1), pooled, 0.0)).sum(1)
        return FusionOutput(self.head(fused), fused, self.named(pooled), gates)
