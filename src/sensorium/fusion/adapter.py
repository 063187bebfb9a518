"""Train learned adapters (``space.adapter.LinearAdapter``) on paired data, and measure them
against the label bridge on held-out pairs, split by item and by category.

A linear map from [encoder features; bridge vector] to the text space, initialised to return
the bridge exactly, trained with a symmetric InfoNCE loss (learnable scale) against the
caption embeddings. By item: captions are grouped (by a hash of their text), so "The letter
K." never straddles train and test. By category: whole categories are held out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sensorium import media
from sensorium.engine import default_engine
from sensorium.errors import UsageError
from sensorium.eval.datasets import TUXPAINT, tuxpaint_sounds, tuxpaint_stamps
from sensorium.eval.metrics import recall_at_k
from sensorium.space import SharedSpace
from sensorium.space.adapter import LinearAdapter

__all__ = [
    "HELD_OUT_CATEGORIES",
    "Pairs",
    "beats_bridge",
    "compare",
    "held_out_items",
    "splits",
    "train_adapter",
    "tuxpaint_pairs",
]

HELD_OUT_CATEGORIES = ("food", "vehicles", "household", "clothes", "sports", "hobbies")


@dataclass(frozen=True)
class Pairs:
    """N paired examples: a medium's encoder features and bridge vector, and its caption."""

    modality: str  # "image" | "sound"
    features: np.ndarray  # (N, D)
    bridge: np.ndarray  # (N, 384)
    captions: np.ndarray  # (N, 384) caption embeddings
    caption_text: list[str]
    categories: list[str]


def held_out_items(captions: list[str]) -> np.ndarray:
    """(N,) bool: the fifth of the captions (by a hash of their text) held out."""
    return np.array([int(hashlib.sha1(c.lower().encode()).hexdigest(), 16) % 5 == 0
                     for c in captions])  # fmt: skip


def splits(pairs: Pairs) -> dict[str, np.ndarray]:
    """{"by_item", "by_category"} -> (N,) bool, True for a held-out (test) pair."""
    by_category = [c in HELD_OUT_CATEGORIES for c in pairs.categories]
    return {"by_item": held_out_items(pairs.caption_text), "by_category": np.array(by_category)}


def train_adapter(
    pairs: Pairs, train: np.ndarray, epochs: int = 50, seed: int = 0
) -> LinearAdapter:
    """Fit on the pairs where ``train`` (N,) is True."""
    torch.manual_seed(seed)
    x = torch.tensor(np.concatenate([pairs.features, pairs.bridge], 1), dtype=torch.float32)
    y = torch.tensor(pairs.captions, dtype=torch.float32)
    d = y.shape[1]
    lin = torch.nn.Linear(x.shape[1], d)
    with torch.no_grad():  # start as the bridge itself
        lin.weight.zero_()
        lin.weight[:, -d:] = torch.eye(d)
        lin.bias.zero_()
    log_scale = torch.nn.Parameter(torch.tensor(float(np.log(20.0))))
    opt = torch.optim.AdamW([*lin.parameters(), log_scale], lr=1e-3, weight_decay=1e-2)
    rows = torch.tensor(np.flatnonzero(train))
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = rows[torch.randperm(len(rows), generator=gen)]
        for s in range(0, len(perm), 128):
            b = perm[s : s + 128]
            z = F.normalize(lin(x[b]), dim=1)  # (B, 384)
            logits = log_scale.exp() * z @ y[b].T  # (B, B)
            target = torch.arange(len(b))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
    return LinearAdapter(lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy(),
                         pairs.modality)  # fmt: skip


def compare(pairs: Pairs, epochs: int = 50, seed: int = 0) -> dict[str, Any]:
    """Bridge against adapter on the held-out pairs of each split, both directions."""
    out: dict[str, Any] = {"pairs": len(pairs.captions), "modality": pairs.modality,
                           "held_out_categories": list(HELD_OUT_CATEGORIES)}  # fmt: skip
    for name, test in splits(pairs).items():
        adapter = train_adapter(pairs, ~test, epochs, seed)
        te = np.flatnonzero(test)
        adapted = adapter.apply(pairs.features[te], pairs.bridge[te])
        out[name] = {"test_pairs": len(te)}
        for label, v in (("bridge", pairs.bridge[te]), ("adapter", adapted)):
            out[name][label] = {
                "caption_to_medium": recall_at_k(pairs.captions[te] @ v.T),
                "medium_to_caption": recall_at_k(v @ pairs.captions[te].T),
            }
    return out


def beats_bridge(report: dict[str, Any]) -> bool:
    """The rule for using an adapter by default: on held-out pairs of both splits, in both
    directions, its R@1 is at least the bridge's (``report`` as ``compare`` returns it)."""
    return all(
        report[split]["adapter"][way]["R@1"] >= report[split]["bridge"][way]["R@1"]
        for split in ("by_item", "by_category")
        for way in ("caption_to_medium", "medium_to_caption")
    )


def tuxpaint_pairs(modality: str, space: SharedSpace | None = None) -> Pairs:
    """Tux Paint photo↔caption (785) or sound effect↔caption (135) pairs, encoded."""
    space = space or default_engine().space
    if modality == "image":
        stamps = tuxpaint_stamps()
        embedded = space.embed([media.load_image(s.image, 224) for s in stamps])
        bridge = np.stack([e.vector for e in embedded])  # (N, 384) the image bridge
        texts, categories = [s.caption for s in stamps], [s.category for s in stamps]
    elif modality == "sound":
        sounds = tuxpaint_sounds()
        embedded = space.embed([media.load_audio(p.sound) for p in sounds])
        bridge = np.stack([e.part_vectors["heard"] for e in embedded])  # the sound bridge alone
        texts = [p.caption for p in sounds]
        categories = [p.sound.relative_to(TUXPAINT).parts[0] for p in sounds]
    else:
        raise UsageError(f"adapters exist for image and sound, not {modality!r}")
    features = np.stack([e.features for e in embedded if e.features is not None])
    return Pairs(modality, features, bridge, space.text.encode(texts), texts, categories)
