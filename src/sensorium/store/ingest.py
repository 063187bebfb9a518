"""Incremental ingest: only new or changed files are encoded; every batch is one commit.

A file is unchanged when its size and mtime match what the store recorded; when they differ
its sha256 decides (a touched but identical file is not encoded again). A file stored through
other models than the space's (``Item.models``) is encoded again. Files are decoded and
encoded ``batch_size`` at a time and each batch is written in one commit, so memory stays
bounded and a killed run loses at most the batch in flight, which the next run encodes again.

Ingest is a chain of public stages that the local loop below, the service's jobs and the Ray
executor (``sensorium.distributed``) all drive:

- ``plan``: on the driver, from the store's states: which files are new, changed or gone;
- ``decode``: files -> media objects (a video is only probed: it is decoded as a stream while
  it is encoded), bad files -> failed ``Outcome``s;
- ``Embedder``: a callable that holds the space's models (a Ray actor holds one): decoded
  media -> ``Outcome``s, each a file's items (``build_item``, ``build_moments``) or failure;
- ``commit``: the one writer: a batch of outcomes in one store commit, failures recorded;
- ``finish``: gone files forgotten (``sync``), the store's housekeeping.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sensorium import media, unchanged
from sensorium.encoders.face_ids import FACE_ID_MODEL, FaceId, FaceIdEncoder
from sensorium.encoders.faces import EXPRESSION_MODEL
from sensorium.encoders.image import SIZE
from sensorium.encoders.ocr import OCR_MODEL
from sensorium.errors import MediaError, MissingFileError
from sensorium.media.metadata import Sidecars, clean_keywords, is_sidecar, photo_meta
from sensorium.media.names import path_text
from sensorium.media.places import gazetteer
from sensorium.media.types import AudioMedia, ImageMedia, Media, MediaKind, TextMedia
from sensorium.media.video import VideoInfo, probe
from sensorium.models.cache import sha256_file
from sensorium.space import Embedded, SharedSpace, SpaceOptions
from sensorium.space.space import OFFLINE_SOUND_MODEL
from sensorium.store.base import Store
from sensorium.store.ignore import Ignore
from sensorium.store.people import People
from sensorium.store.records import Failure, FileState, Item
from sensorium.unchanged import UNCHANGED_FAILED, IngestReport
from sensorium.video import VideoAnalysis, analyze

__all__ = [
    "Decoded",
    "Embedder",
    "IngestReport",
    "Outcome",
    "Plan",
    "Todo",
    "build_item",
    "build_moments",
    "commit",
    "decode",
    "finish",
    "image_side",
    "ingest",
    "item_id",
    "plan",
    "remember_unchanged",
]

TEXT_KEEP = 2000  # characters of a text file kept for explanations


def item_id(path: str) -> str:
    return hashlib.sha1(path.encode()).hexdigest()


@dataclass(frozen=True)
class Todo:
    """A file to encode, as planned: what it was when planned (the item records it)."""

    path: Path  # as the file system gives it (``text`` is how it is stored and shown)
    size: int
    mtime: float
    sha256: str
    known: bool  # the store has an item for this path already
    folders: tuple[str, ...] = ()  # the folders it sits in under its ingest root, outermost first

    @property
    def text(self) -> str:
        return path_text(self.path)


Decoded = tuple[Todo, MediaKind, Media | VideoInfo]  # a file, its kind, its media (a video: probed)


@dataclass
class Outcome:
    """One file after the embed stage, what ``commit`` writes: its items (a video's moments,
    all of them) or why it failed, and the parts that failed while the rest was placed."""

    todo: Todo
    items: list[Item] = field(default_factory=list)
    failure: Failure | None = None
    warnings: list[str] = field(default_factory=list)
    faces: list[FaceId] | None = None  # its faces' identities (people on; None: not looked)


def _models(space: SharedSpace, kind: str, people: bool = False) -> dict[str, str]:
    """The models that place a file of ``kind`` (role -> card): a stored item placed by
    others is encoded again, so turning ``people`` on gives old photos their faces."""
    roles = {"text": "minilm-l6-int8"}
    if kind in (MediaKind.IMAGE, MediaKind.VIDEO):
        roles["image"] = space.options.image_model
        if space.options.ocr:
            roles["ocr"] = OCR_MODEL
        if space.options.faces:
            roles["faces"] = space.options.face_model
            roles["expression"] = EXPRESSION_MODEL
    if people and kind == MediaKind.IMAGE:
        roles["face_id"] = FACE_ID_MODEL
    if kind in (MediaKind.AUDIO, MediaKind.VIDEO):
        roles["sound"] = OFFLINE_SOUND_MODEL  # always runs: the speech gate and the timeline
        if space.options.sound_model != OFFLINE_SOUND_MODEL:
            roles["sound_hub"] = space.options.sound_model
        roles["speech"] = f"whisper-{space.options.speech_model}"
    adapters = {"image": space.options.image_adapter, "sound": space.options.sound_adapter}
    for role, adapter in adapters.items():
        if role in roles and adapter is not None:
            roles[f"{role}_adapter"] = adapter.source or "unnamed"
    return roles


def build_item(todo: Todo, kind: MediaKind, m: Media, e: Embedded, space: SharedSpace,
               people: bool = False) -> Item:  # fmt: skip
    """A file placed in the space -> its stored item (with the models that placed it)."""
    item = Item(
        id=item_id(todo.text), path=todo.text, sha256=todo.sha256, size=todo.size,
        mtime=todo.mtime, kind=kind, vector=e.vector, labels=e.labels, features=e.features,
        models=_models(space, kind, people), ingested_at=time.time(),
        keywords=list(todo.folders),
    )  # fmt: skip
    if isinstance(m, ImageMedia):
        item.width, item.height = m.width, m.height
        meta = photo_meta(todo.path)  # EXIF date and camera (filters), XMP and IPTC (words)
        item.taken, item.camera = meta.taken, meta.camera
        item.caption = "\n".join(t for t in (meta.title, meta.description) if t)
        words = [*meta.keywords, *todo.folders]
        if meta.latitude is not None and meta.longitude is not None:
            item.latitude, item.longitude = meta.latitude, meta.longitude
            place = gazetteer().reverse(meta.latitude, meta.longitude)
            item.place, words = place.to_json(), [*words, *place.words()]
        if meta.gps_problem:  # stored without a place, and said in the report
            e.warnings.append(meta.gps_problem)
        item.keywords = list(clean_keywords(words))
    elif isinstance(m, AudioMedia):
        item.duration = m.duration
    elif isinstance(m, TextMedia):
        item.text = m.text[:TEXT_KEEP]
    if e.written:
        item.text = e.written[:TEXT_KEEP]  # text read in the image: shown and word-matched
    if e.transcript is not None:
        item.transcript = e.transcript.text
        item.segments = [
            {"start": s.start, "end": s.end, "text": s.text} for s in e.transcript.segments
        ]
    item.part_vectors = e.part_vectors
    return item


def build_moments(todo: Todo, v: VideoAnalysis, space: SharedSpace) -> list[Item]:
    """One item per segment: each is a moment that search can return."""
    items = []
    for seg in v.segments:
        words = [{"start": w.start, "end": w.end, "text": w.text} for w in seg.words]
        items.append(Item(
            id=item_id(f"{todo.text}#{seg.index}"), path=todo.text, sha256=todo.sha256,
            size=todo.size, mtime=todo.mtime, kind=MediaKind.VIDEO, vector=seg.vector,
            duration=v.duration, width=v.info.width, height=v.info.height, labels=seg.seen,
            transcript=seg.said, segments=words, features=seg.features,
            models=_models(space, MediaKind.VIDEO),
            ingested_at=time.time(), segment=seg.index, start=seg.start, end=seg.end,
            heard=seg.heard, part_vectors=seg.part_vectors, text=seg.written[:TEXT_KEEP],
            keywords=list(todo.folders),
        ))  # fmt: skip
    return items


def _failure(todo: Todo, e: MediaError) -> Outcome:
    return Outcome(todo, failure=Failure(todo.text, todo.size, todo.mtime, e.cause, time.time()))


def image_side(space: SharedSpace | SpaceOptions) -> int | None:
    """The side images are decoded at: the encoder's, or full size when text is read in them."""
    options = space.options if isinstance(space, SharedSpace) else space
    return None if options.ocr else SIZE


def decode(batch: list[Todo], side: int | None) -> tuple[list[Decoded], list[Outcome]]:
    """Decode a batch; bad files become failed outcomes. Pillow, PyAV and ONNX Runtime
    release the GIL, so the local loop decodes the next batch in a thread while this one
    encodes. A video is only probed here: it is decoded as a stream while it is encoded."""
    decoded: list[Decoded] = []
    failed = []
    for todo in batch:
        try:
            kind = media.sniff(todo.path)
            if kind is MediaKind.VIDEO:
                decoded.append((todo, kind, probe(todo.path)))
            else:
                decoded.append((todo, kind, media.decode(todo.path, kind, side)))
        except MediaError as e:
            failed.append(_failure(todo, e))
    return decoded, failed


class Embedder:
    """The embed and build stages: decoded files -> one ``Outcome`` each, in input order.

    Holds the space's models (loaded on first use), so one lives per process: the local loop
    keeps one, a Ray actor holds one. Built from a ``SharedSpace``, or from its options (what
    is shipped to a worker, which loads its own models). Videos are decoded, split into
    moments and encoded here, each whole: a video that cannot be read is a failed outcome.
    """

    def __init__(self, space: SharedSpace | SpaceOptions, video_fps: float = 1.0,
                 face_ids: FaceIdEncoder | None = None) -> None:  # fmt: skip
        self.space = space if isinstance(space, SharedSpace) else SharedSpace(space)
        self.video_fps = video_fps  # frames sampled per second of video (plus one at every cut)
        self.face_ids = face_ids  # people on: each image's faces get an identity vector

    def __call__(self, decoded: list[Decoded]) -> list[Outcome]:
        space = self.space
        plain = [(t, k, m) for t, k, m in decoded if not isinstance(m, VideoInfo)]
        embedded = space.embed([m for _, _, m in plain])  # batched per medium
        people = self.face_ids is not None
        done = {
            t.path: Outcome(t, [build_item(t, k, m, e, space, people)], warnings=e.warnings)
            for (t, k, m), e in zip(plain, embedded)
        }
        if self.face_ids is not None:
            self._identify([(done[t.path], m, e) for (t, _, m), e in zip(plain, embedded)
                            if isinstance(m, ImageMedia)])  # fmt: skip
        for t, _, info in decoded:
            if not isinstance(info, VideoInfo):
                continue
            try:
                analysis = analyze(t.path, space, fps=self.video_fps, info=info)
                done[t.path] = Outcome(t, build_moments(t, analysis, space))
            except MediaError as e:
                done[t.path] = _failure(t, e)
        return [done[t.path] for t, _, _ in decoded]

    def _identify(self, images: list[tuple[Outcome, ImageMedia, Embedded]]) -> None:
        """Each image's faces (those the space found, else BlazeFace's now, in one batch)
        -> ``Outcome.faces``; an image whose faces cannot be read keeps its old ones."""
        assert self.face_ids is not None
        unread = [m for _, m, e in images if e.faces is None]
        readings = iter(self.space.face_reader.read(unread) if unread else [])
        for outcome, m, e in images:
            reading = e.faces if e.faces is not None else next(readings)
            if reading.error:
                outcome.warnings.append(reading.error)
                continue
            try:
                outcome.faces = self.face_ids.faces_of(m, reading.faces)
            except Exception as err:  # one image must not stop a batch
                outcome.warnings.append(f"faces not recognised ({type(err).__name__}: {err})")


def commit(store: Store, outcomes: list[Outcome], report: IngestReport,
           people: People | None = None) -> None:  # fmt: skip
    """The one writer: a batch's faces (people on) in one commit, then its items in one
    store commit (all visible or none), then its failures; the report counts what was
    added, updated and failed. Faces first: a kill between leaves a file to encode again,
    whose faces are then rewritten under the same ids (``store/people.py``)."""
    if people is not None:
        people.add({o.items[0].id: (o.todo.text, o.faces) for o in outcomes
                    if o.faces is not None and o.items})  # fmt: skip
    new = {o.todo.text for o in outcomes if not o.todo.known}  # no rows to look for
    store.upsert([i for o in outcomes for i in o.items], new)
    failures = [o.failure for o in outcomes if o.failure is not None]
    store.record_failures(failures)
    report.failed.extend((f.path, f.error) for f in failures)
    report.warnings.extend((o.todo.text, w) for o in outcomes for w in o.warnings)
    for o in outcomes:
        if o.failure is not None:
            continue
        if o.todo.known:
            report.updated += 1
        else:
            report.added += 1


@dataclass
class Plan:
    """What an ingest will do, decided on the driver from the store's states."""

    todo: list[Todo]  # new, changed, or stored through other models: encode
    touched: dict[str, float]  # same content, new mtime: record the mtime only
    gone: list[str]  # stored paths under the roots whose files are gone (removed with sync)
    report: IngestReport  # unchanged files and files refused before decoding
    # Files refused before decoding (a pipe, a device, a link loop): recorded by ``finish``,
    # so that the collection's failures count every file it did not take.
    refused: list[Failure] = field(default_factory=list)


class _Refusals:
    """Files refused while planning: a line in the report each, and a failure to record
    (but a path that names no file, and a file refused before that is still as it was)."""

    def __init__(self, report: IngestReport) -> None:
        self.report = report
        self.failures: list[Failure] = []

    def add(self, path: Path, cause: str, record: bool = True) -> None:
        text = path_text(path)
        self.report.failed.append((text, cause))
        if not record:
            return
        try:
            st = path.lstat()
            size, mtime = st.st_size, st.st_mtime
        except OSError:
            size, mtime = 0, 0.0
        self.failures.append(Failure(text, size, mtime, cause, time.time()))


def _plan_files(
    paths: list[Path], states: dict[str, FileState], refusals: _Refusals, space: SharedSpace,
    folders: Callable[[Path], tuple[str, ...]], people: bool = False,
) -> tuple[list[Todo], dict[str, float]]:  # fmt: skip
    """Which files to encode, and which only need their mtime recorded. A file stored through
    other models than the space's (an adapter turned on, another Whisper) is encoded again."""
    report = refusals.report
    todo: list[Todo] = []
    touched: dict[str, float] = {}
    sidecars = Sidecars()
    for path in paths:
        try:
            media.check_regular(path)  # hashing a named pipe or /dev/zero would never end
            st = path.stat()
            sides = [s.stat().st_mtime for s in sidecars.of(path)]
        except MediaError as e:
            refusals.add(path, e.cause, record=not isinstance(e, MissingFileError))
            continue
        except OSError as e:
            refusals.add(path, e.strerror or str(e))
            continue
        # A sidecar's edit is the file's: the stamp recorded is the latest of their mtimes
        mtime = max([st.st_mtime, *sides])
        text = path_text(path)
        known = states.get(text)
        if known and not known.failed and known.models != _models(space, known.kind, people):
            todo.append(Todo(path, st.st_size, mtime, sha256_file(path), True, folders(path)))
            continue
        if known and known.size == st.st_size and known.mtime == mtime:
            if known.failed:
                report.failed.append((text, UNCHANGED_FAILED))
            else:
                report.unchanged += 1
            continue
        sha = sha256_file(path)
        # Same content, a new stamp: only the stamp is recorded, unless a sidecar has (or had:
        # the stamp recorded came from one) something new to say, which is read again
        said = sides or (known is not None and known.mtime > st.st_mtime)
        if known and not known.failed and known.sha256 == sha and not said:
            touched[text] = mtime
            report.unchanged += 1
            continue
        todo.append(Todo(path, st.st_size, mtime, sha, bool(known and not known.failed),
                         folders(path)))  # fmt: skip
    return todo, touched


def _described(paths: Iterable[Path]) -> list[Path]:
    """XMP sidecars out, the files they describe in: a sidecar is read with its photo
    (``media.metadata``), and one edited, added or removed alone has its photo read again."""
    sidecars = Sidecars()
    out: dict[Path, None] = {}
    for path in paths:
        for p in sidecars.described(Path(os.path.abspath(path))) if is_sidecar(path) else [path]:
            out[p] = None
    return list(out)


def _resolved(paths: Iterable[Path], refusals: _Refusals) -> list[Path]:
    """Absolute paths without links, each once; a link loop is a failed line, not a
    traceback. A file name that is not UTF-8 is kept (``media.names``)."""
    out = set()
    for p in paths:
        try:
            out.add(p.resolve())
        except (RuntimeError, OSError) as e:  # pathlib raises RuntimeError on a loop
            refusals.add(p, f"cannot resolve the path ({e})")
    return sorted(out)


def _folders(roots: list[Path]) -> Callable[[Path], tuple[str, ...]]:
    """path -> the names of the folders it sits in under the outermost root that holds it
    (none for a file given by itself): "holiday/2021/beach.jpg" in "holiday" -> ("2021",)."""
    folders = sorted((r for r in roots if r.is_dir()), key=lambda r: len(r.parts))

    def names(path: Path) -> tuple[str, ...]:
        for root in folders:
            if path.is_relative_to(root):
                return tuple(path_text(name) for name in path.parent.relative_to(root).parts)
        return ()

    return names


def _gone(roots: list[Path], seen: set[str], states: dict[str, FileState]) -> list[str]:
    """Stored paths under the ingested roots whose files no longer exist."""
    texts = [path_text(r) for r in roots]
    prefixes = [t if r.is_file() else t.rstrip("/") + "/" for r, t in zip(roots, texts)]
    return [p for p in states if p not in seen and any(p == x or p.startswith(x) for x in prefixes)]


def _scope(paths: list[Path]) -> str | None:
    """The folder that holds all these paths (the store's states are read under it only),
    or None for everywhere."""
    if not paths:
        return None
    common = os.path.commonpath([str(p) for p in paths])
    return None if common == os.path.sep else path_text(common)


def _included(paths: Iterable[Path], roots: list[Path], exclude: Sequence[str],
              report: IngestReport) -> list[Path]:  # fmt: skip
    """The paths that ``--exclude`` patterns and ``.sensoriumignore`` files do not leave out,
    matched as given (before links are resolved) under the roots as given."""
    absolute = [Path(os.path.abspath(p)) for p in paths]
    ignore = Ignore([Path(os.path.abspath(r)) for r in roots], exclude)
    kept = ignore.keep(absolute)
    report.excluded = len(absolute) - len(kept)
    return kept


def plan(
    store: Store, space: SharedSpace, paths: Iterable[Path], roots: list[Path], sync: bool = False,
    exclude: Sequence[str] = (), people: bool = False,
) -> Plan:  # fmt: skip
    """Read the store's states once and decide what to encode (reads only: the driver then
    records ``touched`` and, after the last commit, ``finish`` forgets ``gone`` and records
    ``refused``). Files left out (``exclude`` patterns, ``.sensoriumignore`` files under the
    roots: ``store.ignore``) are not planned; with ``sync`` their stored items are gone."""
    report = IngestReport()
    refusals = _Refusals(report)
    files = _resolved(_included(_described(paths), roots, exclude, report), refusals)
    resolved = [r.resolve() for r in roots]
    states = store.states(_scope([*files, *resolved]))
    todo, touched = _plan_files(files, states, refusals, space, _folders(resolved), people)
    seen = {path_text(p) for p in files} | {f.path for f in refusals.failures}
    gone = _gone(resolved, seen, states) if sync else []
    return Plan(todo, touched, gone, report, refusals.failures)


def finish(store: Store, planned: Plan) -> IngestReport:
    """After the last commit: forget the gone files, record the refused ones, then the
    store's housekeeping."""
    store.delete(planned.gone)
    planned.report.removed = len(planned.gone)
    store.record_failures(planned.refused)
    store.maintain()
    return planned.report


def _pipelined(
    todo: list[Todo], batch_size: int, side: int | None, embed: Embedder
) -> Iterator[list[Outcome]]:
    """Outcomes ``batch_size`` files at a time; the next batch decodes in a thread while this
    one encodes, so at most two batches are held in memory."""
    batches = [todo[s : s + batch_size] for s in range(0, len(todo), batch_size)]
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(decode, batches[0], side) if batches else None
        for i in range(len(batches)):
            assert pending is not None
            decoded, failed = pending.result()
            if i + 1 < len(batches):
                pending = pool.submit(decode, batches[i + 1], side)
            yield embed(decoded) + failed


def ingest(
    store: Store,
    space: SharedSpace,
    paths: Iterable[Path],
    roots: list[Path],
    sync: bool = False,
    batch_size: int = 64,  # 32 spent a fifth of the time in commits (benchmarks/search.py)
    video_fps: float = 1.0,  # frames sampled per second of video (plus one at every cut)
    on_planned: Callable[[int], None] = lambda _: None,
    on_done: Callable[[int], None] = lambda _: None,
    exclude: Sequence[str] = (),  # gitignore patterns of files left out (``store.ignore``)
    people: People | None = None,  # the collection's people (on): faces are recognised
) -> IngestReport:
    """The local loop over the stages: plan, then decode, embed and commit batch by batch."""
    t0 = time.perf_counter()
    planned = plan(store, space, paths, roots, sync, exclude, people is not None)
    store.touch(planned.touched)
    on_planned(len(planned.todo))
    embed = Embedder(space, video_fps, FaceIdEncoder() if people is not None else None)
    for outcomes in _pipelined(planned.todo, batch_size, image_side(space), embed):
        commit(store, outcomes, planned.report, people)
        on_done(len(outcomes))
    report = finish(store, planned)
    report.seconds = time.perf_counter() - t0
    return report


def _nothing(planned: Plan) -> bool:
    """Whether an ingest of this plan writes nothing (a failure it only repeats is no write)."""
    return not (planned.todo or planned.touched or planned.gone or planned.refused) and all(
        cause == UNCHANGED_FAILED for _, cause in planned.report.failed
    )


def remember_unchanged(
    store: Store, space: SharedSpace, inputs: Sequence[str | Path], sync: bool = False,
    exclude: Sequence[str] = (),
) -> bool:  # fmt: skip
    """After an ingest of ``inputs`` through ``space`` (the space ``$SENSORIUM_*`` names: the
    CLI's), plan it again, reading only, and when it would write nothing keep the manifest
    that lets the next one skip the store and the models (``sensorium.unchanged``). The tables
    and files are stamped before and after the plan, which reads the tables' newest versions:
    the manifest is kept only when both stamps agree. Local LanceDB collections only."""
    from sensorium.store.lance import LanceStore

    if not isinstance(store, LanceStore) or store.remote:
        return False
    key = unchanged.fact(inputs, sync, exclude)
    planned_at = time.time_ns()
    before = unchanged.snapshot(store.folder, inputs)
    if before is None:
        return False
    store.items.checkout_latest()  # the plan reads versions no older than ``before``'s
    store.fails.checkout_latest()
    roots = [Path(p) for p in inputs if Path(p).exists()]
    planned = plan(store, space, before[1], roots, sync, exclude, store.people_on)
    after = unchanged.snapshot(store.folder, inputs)
    if after is None or not _nothing(planned):
        return False
    return unchanged.write(store.folder, key, before[0], after[0], planned_at, planned.report)
