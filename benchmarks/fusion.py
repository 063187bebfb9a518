"""Fusion on the real task: Tux Paint stamp category from photo, caption, sound and spoken
caption (most stamps lack the last two). Every method with and without modality dropout,
10 seeds each, next to each modality alone; distillation; the single-modality fast path; and
the wall time of one ``sensorium train fusion`` run of the shipped config.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sensorium.fusion import (
    METHODS,
    FeatureSet,
    evaluate,
    load_config,
    split,
    train_fusion,
    tuxpaint_features,
)
from sensorium.fusion.pipeline import FusionConfig, build, model_meta, run_one

NAME = "fusion"  # benchmarks/results/fusion.json, `--only fusion`

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "tuxpaint-fusion.toml"
SEEDS = tuple(range(10))  # the test set is small (158): 10 seeds to narrow the spread
# Without modality dropout; with it (0.3); and the recipe for inputs that miss modalities:
# dropout 0.5, each batch also run complete with the dropped view pulled towards it
# (consistency_weight), and the epoch chosen with modalities removed too (select_on robust).
VARIANTS: dict[str, dict[str, Any]] = {
    "dropout=0.0": {"modality_dropout": 0.0},
    "dropout=0.3": {"modality_dropout": 0.3},
    "dropout=0.5 +consistency": {"modality_dropout": 0.5, "consistency_weight": 1.0,
                                 "select_on": "robust"},
}  # fmt: skip


def _mean(runs: list[dict[str, Any]], key: str) -> tuple[float, float]:
    values = np.array([r[key] for r in runs], float)
    return float(values.mean()), float(values.std())


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    subsets: dict[str, list[float]] = {}
    for r in runs:
        for name, s in r["subsets"].items():
            subsets.setdefault(name, []).append(s["macro_f1"])
    counts = {name: s["n"] for name, s in runs[0]["subsets"].items()}
    cost = [r["removal_cost"].get("photo", float("nan")) for r in runs]
    return {
        "macro_f1": _mean(runs, "macro_f1"),
        "multi_modal_f1": _mean(runs, "multi_modal_f1"),
        "subsets": {k: [float(np.mean(v)), counts[k]] for k, v in subsets.items()},
        "photo_removal_cost": [float(np.mean(cost)), float(np.std(cost))],
        "parameters": runs[0]["parameters"],
        "seconds": float(np.mean([r["seconds"] for r in runs])),
    }


def methods(fs: FeatureSet, parts: dict[str, np.ndarray], cfg: FusionConfig) -> dict[str, Any]:
    out = {}
    for method in METHODS:
        for name, changes in VARIANTS.items():
            runs = []
            for seed in SEEDS:
                opts = replace(cfg.train, seed=seed, **changes)
                runs.append(run_one(fs, parts, model_meta(fs, method, cfg.hidden, seed), opts)[1])
            out[f"{method} {name}"] = _summary(runs)
    return out


def singles(fs: FeatureSet, parts: dict[str, np.ndarray], cfg: FusionConfig) -> dict[str, Any]:
    """Each modality alone (an early-fusion model with one input), on the same test items
    that have it; also its score on the test items with two modalities or more."""
    out = {}
    for m in fs.features:
        one = FeatureSet({m: fs.features[m]}, {m: fs.mask[m]}, fs.labels, fs.classes, fs.ids,
                         {m: fs.kinds[m]})  # fmt: skip
        have = {k: v[fs.mask[m][v]] for k, v in parts.items()}  # the same split, where m is
        runs = []
        for seed in SEEDS:
            opts = replace(cfg.train, seed=seed, modality_dropout=0.0)
            model, report = run_one(one, have, model_meta(one, "early", cfg.hidden, seed), opts)
            test = fs.subset(have["test"])
            multi = np.stack(list(test.mask.values()), 1).sum(1) >= 2
            report["multi_modal_f1"] = evaluate(model, one.subset(have["test"][multi]))["macro_f1"]
            runs.append(report)
        out[m] = {"macro_f1": _mean(runs, "macro_f1"), "multi_modal_f1": _mean(runs, "multi_modal_f1"),
                  "n_test": runs[0]["n"]}  # fmt: skip
    return out


def fast_path(fs: FeatureSet, cfg: FusionConfig) -> dict[str, Any]:
    """Attention fusion on photo-only inputs: the cross-modal block skipped or not."""
    model = build(model_meta(fs, "attention", cfg.hidden, 0)).eval()
    inputs = {m: torch.from_numpy(f) for m, f in fs.features.items()}
    mask = {m: torch.from_numpy(fs.mask[m]) & (m == "photo") for m in fs.features}
    times = {}
    with torch.no_grad():
        model.fast = False
        reference = model(inputs, mask).logits
        for fast in (False, True, False, True):  # twice each, the second timing is kept
            model.fast = fast
            t0 = time.perf_counter()
            for _ in range(20):
                model(inputs, mask)
            times[fast] = time.perf_counter() - t0
        same = torch.allclose(model(inputs, mask).logits, reference, atol=1e-5)
    n = 20 * len(fs)
    return {"items_per_s_full": n / times[False], "items_per_s_fast": n / times[True],
            "saving": 1 - times[True] / times[False], "same_output": bool(same)}  # fmt: skip


def run(tmp: Path) -> dict[str, Any]:
    cfg = load_config(CONFIG)
    t0 = time.perf_counter()
    fs = tuxpaint_features()
    features_s = time.perf_counter() - t0
    parts = split(fs.labels, cfg.split_seed)
    cfg.out = tmp / "run"
    t0 = time.perf_counter()
    shipped = train_fusion(cfg)
    train_s = time.perf_counter() - t0
    return {
        "classes": fs.classes,
        "seeds": list(SEEDS),
        "split": {k: len(v) for k, v in parts.items()},
        "present": {m: int(k.sum()) for m, k in fs.mask.items()},
        "methods": methods(fs, parts, cfg),
        "singles": singles(fs, parts, cfg),
        "config_run": {
            "config": str(CONFIG.relative_to(ROOT)),
            "seconds": train_s,
            "features_seconds_cached": features_s,
            "method": cfg.method,
            "macro_f1": [shipped["macro_f1_mean"], shipped["macro_f1_std"]],
            "student": [shipped["student"]["macro_f1_mean"], shipped["student"]["macro_f1_std"]],
            "student_parameters": shipped["student"]["runs"][0]["parameters"],
            "teacher_parameters": shipped["student"]["teacher_parameters"],
            "teacher_test_f1": shipped["student"]["teacher_test_f1"],
        },
        "fast_path": fast_path(fs, cfg),
    }


def markdown(f: dict[str, Any]) -> list[str]:
    subsets = sorted({s for r in f["methods"].values() for s in r["subsets"]}, key=len)
    short = {s: s.replace("caption", "C").replace("photo", "P").replace("sound", "S")
             .replace("spoken", "V") for s in subsets}  # fmt: skip
    counts = next(iter(f["methods"].values()))["subsets"]
    lines = [
        "## Fusion",
        "",
        f"Tux Paint stamp category ({len(f['classes'])} classes: the categories with fewer than "
        '10 stamps, military, people, medical and naturalforces, are merged into "other") from '
        f"the photo (P, all {f['present']['photo']}), caption (C, {f['present']['caption']}), "
        f"sound effect (S, {f['present']['sound']}) and spoken caption (V, "
        f"{f['present']['spoken']}, those Whisper heard words in). Fixed split by category "
        f"(seed 0): {f['split']['train']} train, {f['split']['val']} validation, "
        f"{f['split']['test']} test. Test macro-F1, mean over seeds {', '.join(map(str, f['seeds']))} (± std); hidden 128, "
        f"early stopping on validation macro-F1, balanced sampler, bf16 autocast. Dropout: "
        'modality dropout; "+consistency": each batch is also run complete and the dropped '
        "view's prediction is pulled towards the complete one's (`consistency_weight = 1`), and "
        "the epoch is chosen on the mean validation macro-F1 of complete inputs and of each "
        "modality removed in turn (`select_on = robust`). "
        '"−photo": macro-F1 lost when the photo is removed at test time '
        "(items that have another modality).",
        "",
        "| model | all test | "
        + " | ".join(f"{short[s]} (n={counts[s][1]})" for s in subsets)
        + " | −photo | params | s/run |",
        "|---|---|" + "---|" * len(subsets) + "---|---|---|",
    ]
    for name, r in f["methods"].items():
        cells = " | ".join(
            f"{r['subsets'][s][0]:.3f}" if s in r["subsets"] else "" for s in subsets
        )
        lines.append(f"| {name} | {r['macro_f1'][0]:.3f} ± {r['macro_f1'][1]:.3f} | {cells} | "
                     f"{r['photo_removal_cost'][0]:.3f} | {r['parameters']:,} | {r['seconds']:.0f} |")  # fmt: skip
    lines += [
        "",
        "Each modality alone (same split, test items that have it):",
        "",
        "| modality | test items | macro-F1 | on items with 2+ modalities |",
        "|---|---|---|---|",
    ]
    for m, r in f["singles"].items():
        lines.append(f"| {m} | {r['n_test']} | {r['macro_f1'][0]:.3f} ± {r['macro_f1'][1]:.3f} | "
                     f"{r['multi_modal_f1'][0]:.3f} |")  # fmt: skip
    best_name, best = max(f["methods"].items(), key=lambda kv: kv[1]["multi_modal_f1"][0])
    single_name, single = max(((m, r) for m, r in f["singles"].items() if r["n_test"] == f["split"]["test"]),
                              key=lambda kv: kv[1]["multi_modal_f1"][0])  # fmt: skip
    c, fp = f["config_run"], f["fast_path"]
    gain = 100 * (best["multi_modal_f1"][0] - single["multi_modal_f1"][0])
    lines += [
        "",
        f"Best fusion on test items with two modalities or more: {best_name} "
        f"{best['multi_modal_f1'][0]:.3f} against the best single modality ({single_name}) "
        f"{single['multi_modal_f1'][0]:.3f}: **{gain:+.1f} points**.",
        "",
    ]
    lines.append("Macro-F1 lost when the photo is removed (−photo), without modality dropout → "
                 "with it, and F1 on all test items:")  # fmt: skip
    lines.append("")
    for method in dict.fromkeys(name.split()[0] for name in f["methods"]):
        runs = {k.split(" ", 1)[1]: r for k, r in f["methods"].items() if k.split()[0] == method}
        if "dropout=0.0" not in runs:
            continue
        no = runs.pop("dropout=0.0")
        cost = no["photo_removal_cost"][0]
        parts = [f"{v} {r['photo_removal_cost'][0]:.3f} ({r['photo_removal_cost'][0] / cost:.0%}"
                 f" of it; F1 {r['macro_f1'][0]:.3f})" for v, r in runs.items()]  # fmt: skip
        lines.append(f"- {method}: without {cost:.3f} (F1 {no['macro_f1'][0]:.3f}); "
                     + "; ".join(parts) + ".")  # fmt: skip
    lines += [
        "",
        f"Distillation: a {c['student_parameters']:,}-parameter early-fusion student "
        f"({c['student_parameters'] / c['teacher_parameters']:.0%} of the "
        f"{c['teacher_parameters']:,}-parameter {c['method']} teacher) scores "
        f"{c['student'][0]:.3f} ± {c['student'][1]:.3f} against the teacher's "
        f"{c['teacher_test_f1']:.3f}: **{c['student'][0] / c['teacher_test_f1']:.0%}**.",
        "",
        f"One training run, `sensorium train fusion {c['config']}` (3 seeds of {c['method']} plus "
        f"3 students, features cached): **{c['seconds']:.0f} s** on {f['machine']['cores']} cores.",
        "",
        f"Fast path: attention fusion on photo-only inputs skips the cross-modal block: "
        f"{fp['items_per_s_fast']:.0f} against {fp['items_per_s_full']:.0f} items/s, "
        f"{fp['saving']:.0%} less time, same output: {fp['same_output']}.",
        "",
    ]
    return lines
