"""Train a fusion model from a config file, and predict with it.

A config (TOML) names the dataset, its modalities, the fusion method and the training options::

    dataset = "tuxpaint"            # or a CSV manifest: a label column, one column per modality
    method = "attention"            # early | late | hybrid | attention
    hidden = 128
    seeds = [0, 1, 2]
    split_seed = 0                  # the fixed train/val/test split (60/20/20, by class)
    out = "runs/tuxpaint-attention"

    [modalities]                    # name = extractor: image | text | sound | speech
    photo = "image"
    caption = "text"
    sound = "sound"
    spoken = "speech"

    [train]                         # any field of TrainOptions
    modality_dropout = 0.5
    consistency_weight = 1.0        # pull the dropped view towards the complete one
    select_on = "robust"            # choose the epoch for inputs with a modality missing too

    [distill]                       # a student learns from the best seed's model
    method = "early"
    hidden = 32
    modality_dropout = 0.0          # any [train] option, for the student only
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sensorium import media
from sensorium.errors import MediaError, SensoriumError, UsageError
from sensorium.fusion.attention import AttentionFusion
from sensorium.fusion.base import Fusion
from sensorium.fusion.data import (
    TUXPAINT_KINDS,
    FeatureSet,
    csv_features,
    extract,
    split,
    tuxpaint_features,
)
from sensorium.fusion.early import EarlyFusion
from sensorium.fusion.hybrid import HybridFusion
from sensorium.fusion.late import LateFusion
from sensorium.fusion.training import TrainOptions, evaluate, load_model, save_model, train

__all__ = [
    "METHODS",
    "FusionConfig",
    "Prediction",
    "build",
    "load_config",
    "model_meta",
    "predict",
    "train_fusion",
]

METHODS: dict[str, Callable[..., Fusion]] = {
    "early": EarlyFusion, "late": LateFusion, "hybrid": HybridFusion, "attention": AttentionFusion,
}  # fmt: skip


@dataclass
class FusionConfig:
    dataset: str = "tuxpaint"
    modalities: dict[str, str] = field(default_factory=lambda: dict(TUXPAINT_KINDS))
    method: str = "attention"
    hidden: int = 128
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    split_seed: int = 0
    out: Path = Path("runs/fusion")
    train: TrainOptions = field(default_factory=TrainOptions)
    distill_hidden: int = 0  # 0: no student
    distill_method: str = "early"  # the student's method (a small early fusion distils best)
    distill_train: dict[str, Any] = field(default_factory=dict)  # TrainOptions for the student

    def __post_init__(self) -> None:
        for method in (self.method, self.distill_method):
            if method not in METHODS:
                raise UsageError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        if not self.modalities or not self.seeds:
            raise UsageError("a config needs at least one modality and one seed")


def load_config(path: str | Path) -> FusionConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"{path}: {e}") from e
    known = {f.name for f in fields(TrainOptions)}
    unknown = set(raw.get("train", {})) - known
    if unknown:
        raise UsageError(f"{path}: unknown [train] option {', '.join(sorted(unknown))}")
    top = {k: v for k, v in raw.items() if k not in ("train", "distill")}
    bad = set(top) - {f.name for f in fields(FusionConfig)}
    if bad:
        raise UsageError(f"{path}: unknown option {', '.join(sorted(bad))}")
    if "out" in top:
        top["out"] = (path.parent / top["out"]).resolve()
    dataset = top.get("dataset", "tuxpaint")
    if dataset != "tuxpaint":
        top["dataset"] = str((path.parent / dataset).resolve())
    distill = dict(raw.get("distill", {}))
    hidden, method = int(distill.pop("hidden", 0)), str(distill.pop("method", "early"))
    unknown = set(distill) - known
    if unknown:
        raise UsageError(f"{path}: unknown [distill] option {', '.join(sorted(unknown))}")
    return FusionConfig(**top, train=TrainOptions(**raw.get("train", {})), distill_hidden=hidden,
                        distill_method=method, distill_train=distill)  # fmt: skip


def build(meta: dict[str, Any]) -> Fusion:
    return METHODS[meta["method"]](meta["dims"], len(meta["classes"]), hidden=meta["hidden"])


def load_dataset(cfg: FusionConfig) -> FeatureSet:
    fs = (
        tuxpaint_features()
        if cfg.dataset == "tuxpaint"
        else csv_features(Path(cfg.dataset), cfg.modalities)
    )
    missing = set(cfg.modalities) - set(fs.features)
    if missing:
        raise UsageError(f"the dataset has no modality {', '.join(sorted(missing))}")
    keep = list(cfg.modalities)
    features = {m: fs.features[m] for m in keep}
    masks = {m: fs.mask[m] for m in keep}
    kinds = {m: cfg.modalities[m] for m in keep}
    return FeatureSet(features, masks, fs.labels, fs.classes, fs.ids, kinds)


def model_meta(fs: FeatureSet, method: str, hidden: int, seed: int) -> dict[str, Any]:
    """What ``build`` needs to make the model again, saved beside its weights."""
    return {
        "method": method, "hidden": hidden, "seed": seed, "classes": fs.classes,
        "dims": {m: int(f.shape[1]) for m, f in fs.features.items()}, "kinds": fs.kinds,
    }  # fmt: skip


def removal_costs(model: Fusion, test: FeatureSet) -> dict[str, float]:
    """Per modality: macro-F1 lost when it is removed, on test items that have it and at
    least one other modality."""
    present = np.stack([test.mask[m] for m in sorted(test.mask)], 1)  # (N, M)
    costs = {}
    for m in sorted(test.mask):
        rows = np.flatnonzero(test.mask[m] & (present.sum(1) >= 2))
        if len(rows) == 0:
            continue
        sub = test.subset(rows)
        costs[m] = evaluate(model, sub)["macro_f1"] - evaluate(model, sub, drop=(m,))["macro_f1"]
    return costs


def run_one(
    fs: FeatureSet, parts: dict[str, np.ndarray], meta: dict[str, Any], opts: TrainOptions,
    teacher: Fusion | None = None, on_epoch: Callable[[dict[str, float]], None] = lambda _: None,
) -> tuple[Fusion, dict[str, Any]]:  # fmt: skip
    """Train one model on the train part, select on val, report on test."""
    torch.manual_seed(opts.seed)
    model = build(meta)
    result = train(
        model, fs.subset(parts["train"]), fs.subset(parts["val"]), opts, teacher, on_epoch
    )
    test = fs.subset(parts["test"])
    report = evaluate(model, test)
    multi = np.flatnonzero(np.stack(list(test.mask.values()), 1).sum(1) >= 2)
    report |= {
        "multi_modal_f1": evaluate(model, test.subset(multi))["macro_f1"] if len(multi) else None,
        "removal_cost": removal_costs(model, test),
        "best_epoch": result.best_epoch, "val_f1": result.best_val_f1,
        "seconds": result.seconds, "parameters": model.parameter_count(),
    }  # fmt: skip
    return model, report


def train_fusion(
    cfg: FusionConfig,
    on_epoch: Callable[[dict[str, float]], None] = lambda _: None,
    data: FeatureSet | None = None,
) -> dict[str, Any]:
    """Every seed of the config, then the student; models under ``out``. ``data`` is the
    config's dataset when the caller has loaded it already (``load_dataset``)."""
    fs = data if data is not None else load_dataset(cfg)
    parts = split(fs.labels, cfg.split_seed)
    runs, models = [], []
    for seed in cfg.seeds:
        opts = replace(cfg.train, seed=seed)
        meta = model_meta(fs, cfg.method, cfg.hidden, seed)
        model, report = run_one(fs, parts, meta, opts, on_epoch=on_epoch)
        save_model(model, cfg.out / f"seed-{seed}", meta | {"test": report})
        runs.append(report)
        models.append(model)
    out: dict[str, Any] = {"method": cfg.method, "runs": runs, **_spread(runs)}
    best = int(np.argmax([r["val_f1"] for r in runs]))
    save_model(
        models[best], cfg.out / "best", model_meta(fs, cfg.method, cfg.hidden, cfg.seeds[best])
    )
    if cfg.distill_hidden:
        students = []
        for seed in cfg.seeds:
            opts = replace(cfg.train, **cfg.distill_train, seed=seed)
            meta = model_meta(fs, cfg.distill_method, cfg.distill_hidden, seed)
            student, report = run_one(
                fs, parts, meta, opts, teacher=models[best], on_epoch=on_epoch
            )
            save_model(student, cfg.out / f"student-{seed}", meta | {"test": report})
            students.append(report)
        out["student"] = {"runs": students, **_spread(students),
                          "teacher_parameters": models[best].parameter_count(),
                          "teacher_test_f1": runs[best]["macro_f1"]}  # fmt: skip
    out["split"] = {k: len(v) for k, v in parts.items()}
    out["classes"] = fs.classes
    return out


def _spread(runs: list[dict[str, Any]]) -> dict[str, Any]:
    f1 = np.array([r["macro_f1"] for r in runs])
    return {"macro_f1_mean": float(f1.mean()), "macro_f1_std": float(f1.std())}


@dataclass
class Prediction:
    sample: str
    labels: list[tuple[str, float]]
    gates: dict[str, float] | None = None
    error: str | None = None


def _parse_sample(sample: str, kinds: dict[str, str]) -> dict[str, str]:
    """ "photo=a.png+caption=A red kangaroo." or a bare file whose kind names one modality."""
    out: dict[str, str] = {}
    for part in sample.split("+"):
        name, sep, value = part.partition("=")
        if sep and name in kinds:
            out[name] = value
            continue
        kind = media.sniff(Path(part)).value  # a bare file: image -> the image modality, ...
        wanted = {"image": ["image"], "audio": ["sound", "speech"], "video": ["sound", "speech"],
                  "text": ["text"]}[kind]  # fmt: skip
        names = [m for m, k in kinds.items() if k in wanted and m not in out]
        if not names:
            raise UsageError(f"{part}: the model has no modality for {kind}")
        out[names[0]] = f"@{part}" if kind == "text" else part
    return out


def _features(
    given: dict[str, str], meta: dict[str, Any]
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    inputs, mask = {}, {}
    for m, dim in meta["dims"].items():
        if m in given:
            feats = torch.from_numpy(extract(meta["kinds"][m], [given[m]]))  # (1, D_m)
            inputs[m], mask[m] = feats, torch.tensor([bool(feats.abs().sum() > 0)])
        else:
            inputs[m], mask[m] = torch.zeros(1, dim), torch.tensor([False])
    return inputs, mask


def predict(folder: str | Path, samples: list[str], top: int = 3) -> list[Prediction]:
    """Each sample is one item: a file, or several modalities joined with "+"."""
    model, meta = load_model(Path(folder), build)
    kinds: dict[str, str] = meta["kinds"]
    results = []
    for sample in samples:
        try:  # a bad sample is reported and the others go on
            inputs, mask = _features(_parse_sample(sample, kinds), meta)
        except SensoriumError as e:
            cause = e.cause if isinstance(e, MediaError) else str(e)  # the sample is named anyway
            results.append(Prediction(sample, [], error=cause))
            continue
        if not any(bool(v) for v in mask.values()):
            results.append(Prediction(sample, [], error="no modality of the model is present"))
            continue
        with torch.no_grad():
            out = model(inputs, mask)
        probs = torch.softmax(out.logits.float(), 1)[0]
        order = torch.argsort(probs, descending=True)[:top]
        gates = None
        if out.gates is not None:
            gates = {m: round(float(g), 4) for m, g in zip(model.modalities, out.gates[0])}
        results.append(
            Prediction(sample, [(meta["classes"][i], float(probs[i])) for i in order], gates)
        )
    return results
