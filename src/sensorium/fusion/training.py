"""The training kit: modality dropout, a sampler balanced over modality combinations, a
multimodal contrastive loss, and a trainer (bf16 autocast on the CPU, early stopping, seeds,
safetensors checkpoints, distillation).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from sensorium.errors import UsageError
from sensorium.eval.metrics import macro_f1
from sensorium.fusion.base import Fusion, Inputs, Masks
from sensorium.fusion.data import FeatureSet

__all__ = [
    "BalancedSampler",
    "ContrastiveLoss",
    "TrainOptions",
    "TrainResult",
    "evaluate",
    "load_model",
    "modality_dropout",
    "predict_logits",
    "save_model",
    "seed_everything",
    "train",
]


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def modality_dropout(mask: Masks, p: float, generator: torch.Generator | None = None) -> Masks:
    """Drop each present modality with probability ``p``, never all of a sample's: where every
    one was dropped, one of those it had is kept at random."""
    if p <= 0:
        return mask
    names = sorted(mask)
    present = torch.stack([mask[m] for m in names], 1)  # (B, M)
    keep = present & (torch.rand(present.shape, generator=generator) >= p)
    empty = ~keep.any(1)  # (B,)
    if empty.any():
        noise = torch.rand(present.shape, generator=generator).masked_fill(~present, -1.0)
        pick = F.one_hot(noise.argmax(1), len(names)).bool()  # (B, M) one present modality
        keep = torch.where(empty[:, None], pick, keep)
    return {m: keep[:, i] for i, m in enumerate(names)}


class BalancedSampler(torch.utils.data.Sampler[int]):
    """Indices drawn so that every combination of present modalities is equally likely (then
    uniformly within it): rare combinations (all four Tux Paint modalities: 65 of 785
    stamps) are seen as often as the common ones. ``len(self)`` draws per epoch."""

    def __init__(self, combos: list[str], generator: torch.Generator | None = None) -> None:
        groups: dict[str, list[int]] = {}
        for i, c in enumerate(combos):
            groups.setdefault(c, []).append(i)
        self.groups = [torch.tensor(g) for g in groups.values()]
        self.n = len(combos)
        self.generator = generator

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        which = torch.randint(len(self.groups), (self.n,), generator=self.generator)
        for g in which.tolist():
            group = self.groups[g]
            yield int(group[torch.randint(len(group), (1,), generator=self.generator)])


class ContrastiveLoss(nn.Module):
    """InfoNCE over every pair of present modalities, with a learnable temperature.

    For each pair (a, b), the samples that have both are matched: sample i's a-embedding must
    be closest to its own b-embedding among the batch (and the other way round).
    """

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        self.log_t = nn.Parameter(torch.tensor(float(np.log(temperature))))

    def forward(self, embeddings: dict[str, Tensor], mask: Masks) -> Tensor:
        names = sorted(embeddings)
        t = self.log_t.exp().clamp(0.01, 1.0)
        losses = []
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                both = mask[a] & mask[b]  # (B,)
                if int(both.sum()) < 2:
                    continue
                za = F.normalize(embeddings[a][both].float(), dim=1)  # (K, H)
                zb = F.normalize(embeddings[b][both].float(), dim=1)
                logits = za @ zb.T / t  # (K, K)
                target = torch.arange(len(za))
                losses.append(
                    (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
                )
        return torch.stack(losses).mean() if losses else self.log_t.sum() * 0.0


@dataclass
class TrainOptions:
    epochs: int = 80
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-2
    modality_dropout: float = 0.0
    balanced: bool = True
    contrastive_weight: float = 0.0  # InfoNCE beside the classification loss
    pretrain_epochs: int = 0  # epochs of InfoNCE alone first, to pre-align the modalities
    bf16: bool = True  # autocast to bfloat16 on the CPU
    patience: int = 15  # epochs without a better validation macro-F1 before stopping
    warmup: float = 0.1  # share of the steps spent raising the learning rate
    # "full": keep the epoch with the best validation macro-F1 on complete inputs; "robust":
    # the best mean of that and of each modality removed in turn (for models meant to run
    # with modalities missing)
    select_on: str = "full"
    # With modality dropout: also run each batch complete, and pull the dropped view's
    # prediction towards the complete one's (KL, this weight), so that a missing modality
    # changes the answer less (self-distillation across views).
    consistency_weight: float = 0.0
    seed: int = 0
    distill_temperature: float = 2.0
    distill_weight: float = 0.7  # share of the teacher's soft targets in a student's loss

    def __post_init__(self) -> None:
        if self.select_on not in ("full", "robust"):
            raise UsageError(f"select_on must be full or robust, not {self.select_on!r}")
        if not 0.0 <= self.modality_dropout < 1.0:
            raise UsageError("modality_dropout must be in [0, 1)")


@dataclass
class TrainResult:
    best_epoch: int
    best_val_f1: float
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def tensors(fs: FeatureSet) -> tuple[Inputs, Masks, Tensor]:
    return (
        {m: torch.from_numpy(f) for m, f in fs.features.items()},
        {m: torch.from_numpy(k) for m, k in fs.mask.items()},
        torch.from_numpy(fs.labels),
    )


@torch.no_grad()
def predict_logits(
    model: Fusion, fs: FeatureSet, drop: tuple[str, ...] = (), bf16: bool = False
) -> Tensor:
    """(N, C) logits in eval mode; modalities in ``drop`` are masked out. A sample left with
    no modality gets NaN logits, and ``evaluate`` leaves it out."""
    model.eval()
    inputs, mask, _ = tensors(fs)
    mask = {m: (k & False) if m in drop else k for m, k in mask.items()}
    alive = torch.stack(list(mask.values()), 1).any(1)
    out = torch.full((len(fs), model.classes), float("nan"))
    idx = torch.nonzero(alive).flatten()
    for s in range(0, len(idx), 256):
        rows = idx[s : s + 256]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(
                {m: x[rows] for m, x in inputs.items()}, {m: k[rows] for m, k in mask.items()}
            ).logits
        out[rows] = logits.float()
    return out


def evaluate(model: Fusion, fs: FeatureSet, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """Macro-F1 on every sample, and per combination of present modalities."""
    logits = predict_logits(model, fs, drop)
    alive = ~torch.isnan(logits).any(1)
    pred = logits.argmax(1).numpy()
    combos = np.array(fs.combos())
    keep = alive.numpy()
    out: dict[str, Any] = {"macro_f1": macro_f1(fs.labels[keep], pred[keep]), "n": int(keep.sum())}
    subsets = {}
    for c in sorted(set(combos[keep])):
        rows = keep & (combos == c)
        subsets[c] = {"macro_f1": macro_f1(fs.labels[rows], pred[rows]), "n": int(rows.sum())}
    out["subsets"] = subsets
    return out


def _selection_score(model: Fusion, val: FeatureSet, select_on: str) -> float:
    full = float(evaluate(model, val)["macro_f1"])
    if select_on == "full":
        return full
    scores = [full] + [float(evaluate(model, val, drop=(m,))["macro_f1"]) for m in sorted(val.mask)]
    return float(np.mean(scores))


def _loss(
    model: Fusion,
    batch: tuple[Inputs, Masks, Tensor],
    opts: TrainOptions,
    contrastive: ContrastiveLoss,
    pretraining: bool,
    teacher: Fusion | None,
    complete: Masks | None = None,
) -> Tensor:
    """The batch's loss; ``complete``: the masks before modality dropout, for the consistency
    term."""
    inputs, mask, labels = batch
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=opts.bf16):
        out = model(inputs, mask)
    if pretraining:
        return contrastive(out.modality_embeddings, mask)
    logits = out.logits.float()
    loss = F.cross_entropy(logits, labels)
    if complete is not None and opts.consistency_weight > 0:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=opts.bf16):
            full = model(inputs, complete).logits.float()  # (B, C)
        target = F.softmax(full.detach(), 1)
        agree = F.kl_div(F.log_softmax(logits, 1), target, reduction="batchmean")
        loss = loss + F.cross_entropy(full, labels) + opts.consistency_weight * agree
    if teacher is not None:
        t = opts.distill_temperature
        with torch.no_grad():
            soft = F.softmax(teacher(inputs, mask).logits.float() / t, dim=1)
        kd = F.kl_div(F.log_softmax(logits / t, dim=1), soft, reduction="batchmean") * t * t
        loss = opts.distill_weight * kd + (1 - opts.distill_weight) * loss
    if opts.contrastive_weight > 0:
        loss = loss + opts.contrastive_weight * contrastive(out.modality_embeddings, mask)
    return loss


def train(
    model: Fusion,
    train_set: FeatureSet,
    val_set: FeatureSet,
    opts: TrainOptions,
    teacher: Fusion | None = None,
    on_epoch: Callable[[dict[str, float]], None] = lambda _: None,
) -> TrainResult:
    """Train in place; the model ends with the weights of its best validation epoch."""
    t0 = time.perf_counter()
    gen = seed_everything(opts.seed)
    contrastive = ContrastiveLoss()
    params = list(model.parameters()) + list(contrastive.parameters())
    optim = torch.optim.AdamW(params, lr=opts.lr, weight_decay=opts.weight_decay)
    total = opts.pretrain_epochs + opts.epochs
    steps = total * ((len(train_set) + opts.batch_size - 1) // opts.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(optim, max_lr=opts.lr, total_steps=steps,
                                                pct_start=opts.warmup)  # fmt: skip
    inputs, mask, labels = tensors(train_set)
    combos = train_set.combos()
    if teacher is not None:
        teacher.eval()
    best = TrainResult(-1, -1.0, 0.0)
    state: dict[str, Tensor] = {}
    for epoch in range(total):
        pretraining = epoch < opts.pretrain_epochs
        model.train()
        order = (torch.tensor(list(BalancedSampler(combos, gen))) if opts.balanced
                 else torch.randperm(len(train_set), generator=gen))  # fmt: skip
        running = 0.0
        for s in range(0, len(order), opts.batch_size):
            rows = order[s : s + opts.batch_size]
            complete = {k: v[rows] for k, v in mask.items()}
            m = modality_dropout(complete, opts.modality_dropout, gen)
            batch = ({k: v[rows] for k, v in inputs.items()}, m, labels[rows])
            loss = _loss(model, batch, opts, contrastive, pretraining, teacher, complete)
            optim.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 5.0)
            optim.step()
            sched.step()
            running += float(loss.detach()) * len(rows)
        record = {"epoch": epoch, "loss": running / len(order)}
        if not pretraining:
            record["val_f1"] = _selection_score(model, val_set, opts.select_on)
            if record["val_f1"] > best.best_val_f1:
                best.best_epoch, best.best_val_f1 = epoch, record["val_f1"]
                state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        best.history.append(record)
        on_epoch(record)
        stale = epoch - best.best_epoch  # epochs since the best one
        if not pretraining and stale > 0 and stale >= opts.patience:
            break
    if state:
        model.load_state_dict(state)
    best.seconds = time.perf_counter() - t0
    return best


def save_model(model: Fusion, folder: Path, meta: dict[str, Any]) -> Path:
    """``model.safetensors`` (weights) and ``model.json`` (what is needed to rebuild it)."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, folder / "model.safetensors"
    )
    (folder / "model.json").write_text(json.dumps(meta, indent=2))
    return folder


def load_model(
    folder: Path, build: Callable[[dict[str, Any]], Fusion]
) -> tuple[Fusion, dict[str, Any]]:
    meta = json.loads((folder / "model.json").read_text())
    model = build(meta)
    model.load_state_dict(load_file(folder / "model.safetensors"))
    model.eval()
    return model, meta
