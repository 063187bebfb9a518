"""Probe: does a learned linear adapter beat the image label bridge on held-out Tux Paint?

A linear map from [EfficientNet pooled features (1280); bridge vector (384)] to the text
space, initialised to return the bridge exactly, trained with a symmetric InfoNCE loss against
caption embeddings. Two splits: by item (captions grouped, so "The letter K." never straddles
train and test) and by category (whole categories held out). The adapter is not used by the
engine: PRODUCT.md keeps an adapter only where it beats the bridge, and this measures where.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch

from sensorium import media
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.eval.metrics import recall_at_k
from sensorium.space import default_space

HELD_OUT_CATEGORIES = ("food", "vehicles", "household", "clothes", "sports", "hobbies")


def _train(x: np.ndarray, y: np.ndarray, train: np.ndarray, epochs: int = 50) -> np.ndarray:
    """x (N, 1280 + 384), y (N, 384) -> adapted vectors (N, 384) for every row."""
    torch.manual_seed(0)
    xt, yt = torch.tensor(x), torch.tensor(y)
    lin = torch.nn.Linear(x.shape[1], y.shape[1])
    with torch.no_grad():  # start as the identity on the bridge part: the bridge itself
        lin.weight.zero_()
        lin.weight[:, -y.shape[1] :] = torch.eye(y.shape[1])
        lin.bias.zero_()
    log_scale = torch.nn.Parameter(torch.tensor(np.log(20.0), dtype=torch.float32))
    opt = torch.optim.AdamW([*lin.parameters(), log_scale], lr=1e-3, weight_decay=1e-2)
    rows = torch.tensor(np.flatnonzero(train))
    for _ in range(epochs):
        perm = rows[torch.randperm(len(rows))]
        for s in range(0, len(perm), 128):
            b = perm[s : s + 128]
            z = torch.nn.functional.normalize(lin(xt[b]), dim=1)  # (B, 384)
            logits = log_scale.exp() * z @ yt[b].T  # (B, B)
            target = torch.arange(len(b))
            loss = torch.nn.functional.cross_entropy(logits, target)
            loss = (loss + torch.nn.functional.cross_entropy(logits.T, target)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return torch.nn.functional.normalize(lin(xt), dim=1).numpy()


def run() -> dict[str, Any]:
    space = default_space()
    stamps = tuxpaint_stamps()
    embedded = space.embed([media.load_image(s.image, 224) for s in stamps])
    bridge = np.stack([e.vector for e in embedded])  # (N, 384)
    features = np.stack([e.features for e in embedded])  # (N, 1280)
    captions = space.text.encode([s.caption for s in stamps])  # (N, 384)
    by_caption = [
        int(hashlib.sha1(s.caption.lower().encode()).hexdigest(), 16) % 5 == 0 for s in stamps
    ]
    splits = {
        "by_item": np.array(by_caption),
        "by_category": np.array([s.category in HELD_OUT_CATEGORIES for s in stamps]),
    }
    out: dict[str, Any] = {"stamps": len(stamps), "held_out_categories": list(HELD_OUT_CATEGORIES)}
    x = np.concatenate([features, bridge], 1)
    for name, test in splits.items():
        adapted = _train(x, captions, ~test)
        te = np.flatnonzero(test)
        out[name] = {"test_items": len(te)}
        for space_name, v in (("bridge", bridge), ("adapter", adapted)):
            out[name][space_name] = {
                "caption_to_photo": recall_at_k(captions[te] @ v[te].T),
                "photo_to_caption": recall_at_k(v[te] @ captions[te].T),
            }
    return out
