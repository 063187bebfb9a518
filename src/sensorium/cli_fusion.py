"""``sensorium train fusion CONFIG``, ``train adapter`` and ``predict MODEL SAMPLE...``
(need torch)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

from sensorium.errors import UsageError

__all__ = ["predict_cmd", "train_app"]

train_app = typer.Typer(help="Train models on your data (needs the torch extra).",
                        no_args_is_help=True)  # fmt: skip
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise UsageError("fusion needs torch: pip install 'sensorium[torch]'") from None


def _f1(run: dict[str, Any]) -> str:
    return f"{run['macro_f1']:.3f}"


@train_app.command("fusion")
def train_fusion_cmd(
    config: Annotated[
        Path, typer.Argument(help="A TOML config (see configs/tuxpaint-fusion.toml).")
    ],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where models go.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The results as JSON.")] = False,
) -> None:
    """Train a fusion classifier: every seed of the config, then a distilled student."""
    _torch()
    from sensorium.fusion import load_config, train_fusion

    cfg = load_config(config)
    if out_dir is not None:
        cfg.out = out_dir
    with err.status("preparing features (cached after the first run)"):
        from sensorium.fusion.pipeline import load_dataset

        data = load_dataset(cfg)

    def progress(record: dict[str, float]) -> None:
        if "val_f1" in record and err.is_terminal:
            err.print(f"  epoch {record['epoch']:3d}  loss {record['loss']:.3f}  "
                      f"val macro-F1 {record['val_f1']:.3f}", highlight=False)  # fmt: skip

    results = train_fusion(cfg, progress, data)
    (cfg.out / "results.json").write_text(json.dumps(results, indent=2))
    if as_json:
        sys.stdout.write(json.dumps(results) + "\n")
        return
    table = Table("model", "seed", "test macro-F1", "params", "best epoch", "seconds", box=None)
    for run, seed in zip(results["runs"], cfg.seeds):
        table.add_row(cfg.method, str(seed), _f1(run), f"{run['parameters']:,}",
                      str(run["best_epoch"]), f"{run['seconds']:.0f}")  # fmt: skip
    for run, seed in zip(results.get("student", {}).get("runs", []), cfg.seeds):
        table.add_row("student", str(seed), _f1(run), f"{run['parameters']:,}",
                      str(run["best_epoch"]), f"{run['seconds']:.0f}")  # fmt: skip
    out.print(table)
    out.print(f"{cfg.method}: macro-F1 {results['macro_f1_mean']:.3f} ± "
              f"{results['macro_f1_std']:.3f} over {len(cfg.seeds)} seeds → {cfg.out}")  # fmt: skip


def predict_cmd(
    model: Annotated[Path, typer.Argument(help="A trained model folder (e.g. runs/x/best).")],
    samples: Annotated[
        list[str],
        typer.Argument(
            help="One item each: a file, or modalities joined with '+', e.g. "
            "'photo=kangaroo.png+caption=A red kangaroo.'"
        ),
    ],
    top: Annotated[int, typer.Option("--top", help="How many labels.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per sample.")] = False,
) -> None:
    """Predict with a trained fusion model; shows which modality decided (attention gates)."""
    _torch()
    from sensorium.fusion import predict

    if not (model / "model.json").is_file():
        raise UsageError(f"{model}: not a trained model folder (no model.json)")
    failed = False
    for p in predict(model, samples, top):
        failed |= p.error is not None
        if as_json:
            obj: dict[str, Any] = {"sample": p.sample}
            if p.error:
                obj["error"] = p.error
            else:
                obj["labels"] = [{"label": lb, "score": round(s, 4)} for lb, s in p.labels]
                if p.gates:
                    obj["gates"] = p.gates
            sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        elif p.error:
            err.print(f"[red]error[/red] {esc(p.sample)}: {esc(p.error)}", highlight=False)
        else:
            labels = esc("  ".join(f"{lb} {s:.2f}" for lb, s in p.labels))
            gates = ("  [dim]gates " + " ".join(f"{m}={g:.2f}" for m, g in p.gates.items() if g)
                     + "[/dim]") if p.gates else ""  # fmt: skip
            out.print(f"{esc(p.sample)}  {labels}{gates}", highlight=False)
    if failed:
        raise typer.Exit(1)


@train_app.command("adapter")
def train_adapter_cmd(
    modality: Annotated[str, typer.Option(help="image (photo↔caption) or sound.")] = "image",
    epochs: Annotated[int, typer.Option(help="Passes over the training pairs.")] = 50,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also train on every pair and save it here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The comparison as JSON.")] = False,
) -> None:
    """Train an adapter on Tux Paint pairs; compare it with the bridge on held-out pairs."""
    _torch()
    import numpy as np

    from sensorium.fusion.adapter import compare, train_adapter, tuxpaint_pairs

    if epochs < 1:
        raise UsageError("--epochs must be at least 1")
    with err.status(f"encoding Tux Paint {modality} pairs"):
        pairs = tuxpaint_pairs(modality)
    report = compare(pairs, epochs)
    if out_file is not None:
        adapter = train_adapter(pairs, np.ones(len(pairs.captions), bool), epochs)
        report["saved"] = {"path": str(out_file), "sha256": adapter.save(out_file)}
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    table = Table("split", "test pairs", "caption → medium", "medium → caption", box=None)
    for split in ("by_item", "by_category"):
        r = report[split]
        b, a = r["bridge"], r["adapter"]
        there = f"{b['caption_to_medium']['R@1']:.3f} → {a['caption_to_medium']['R@1']:.3f}"
        back = f"{b['medium_to_caption']['R@1']:.3f} → {a['medium_to_caption']['R@1']:.3f}"
        table.add_row(split.replace("_", " "), str(r["test_pairs"]), there, back)
    out.print(f"R@1 on held-out pairs, bridge → adapter ({modality}, {report['pairs']} pairs):")
    out.print(table)
    if "saved" in report:
        out.print(f"adapter → {out_file}  sha256 {report['saved']['sha256']}")
