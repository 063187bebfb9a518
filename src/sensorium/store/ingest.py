"""Incremental ingest: only new or changed files are encoded; every batch is one commit.

A file is unchanged when its size and mtime match what the store recorded; when they differ
its sha256 decides (a touched but identical file is not encoded again). A file stored through
other models than the space's (``Item.models``) is encoded again. Files are decoded and
encoded ``batch_size`` at a time and each batch is written in one commit, so memory stays
bounded and a killed run loses at most the batch in flight, which the next run encodes again.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sensorium import media
from sensorium.encoders.image import SIZE
from sensorium.encoders.ocr import OCR_MODEL
from sensorium.errors import MediaError
from sensorium.media.types import AudioMedia, ImageMedia, Media, MediaKind, TextMedia
from sensorium.media.video import VideoInfo, probe
from sensorium.models.cache import sha256_file
from sensorium.space import Embedded, SharedSpace
from sensorium.space.space import OFFLINE_SOUND_MODEL
from sensorium.store.base import Store
from sensorium.store.records import Failure, FileState, Item
from sensorium.video import VideoAnalysis, analyze

__all__ = ["IngestReport", "ingest", "item_id"]

TEXT_KEEP = 2000  # characters of a text file kept for explanations


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, cause)
    # Stored, but a part failed (e.g. the text could not be read): (path, cause)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        failed = [{"path": p, "error": e} for p, e in self.failed]
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": failed,
            "warnings": [{"path": p, "warning": w} for p, w in self.warnings],
            "seconds": round(self.seconds, 2),
        }


def item_id(path: str) -> str:
    return hashlib.sha1(path.encode()).hexdigest()


@dataclass(frozen=True)
class _Todo:
    path: Path
    size: int
    mtime: float
    sha256: str
    known: bool  # the store has an item for this path already


def _models(space: SharedSpace, kind: str) -> dict[str, str]:
    roles = {"text": "minilm-l6-int8"}
    if kind in ("image", "video"):
        roles["image"] = space.options.image_model
        if space.options.ocr:
            roles["ocr"] = OCR_MODEL
    if kind in ("audio", "video"):
        roles["sound"] = OFFLINE_SOUND_MODEL  # always runs: the speech gate and the timeline
        if space.options.sound_model != OFFLINE_SOUND_MODEL:
            roles["sound_hub"] = space.options.sound_model
        roles["speech"] = f"whisper-{space.options.speech_model}"
    adapters = {"image": space.options.image_adapter, "sound": space.options.sound_adapter}
    for role, adapter in adapters.items():
        if role in roles and adapter is not None:
            roles[f"{role}_adapter"] = adapter.source or "unnamed"
    return roles


def _item(todo: _Todo, kind: str, m: Media, e: Embedded, space: SharedSpace) -> Item:
    item = Item(
        id=item_id(str(todo.path)), path=str(todo.path), sha256=todo.sha256, size=todo.size,
        mtime=todo.mtime, kind=kind, vector=e.vector, labels=e.labels, features=e.features,
        models=_models(space, kind), ingested_at=time.time(),
    )  # fmt: skip
    if isinstance(m, ImageMedia):
        item.width, item.height = m.width, m.height
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


def _video_items(todo: _Todo, v: VideoAnalysis, space: SharedSpace) -> list[Item]:
    """One item per segment: each is a moment that search can return."""
    items = []
    for seg in v.segments:
        words = [{"start": w.start, "end": w.end, "text": w.text} for w in seg.words]
        items.append(Item(
            id=item_id(f"{todo.path}#{seg.index}"), path=str(todo.path), sha256=todo.sha256,
            size=todo.size, mtime=todo.mtime, kind="video", vector=seg.vector,
            duration=v.duration, width=v.info.width, height=v.info.height, labels=seg.seen,
            transcript=seg.said, segments=words, features=seg.features,
            models=_models(space, "video"),
            ingested_at=time.time(), segment=seg.index, start=seg.start, end=seg.end,
            heard=seg.heard, part_vectors=seg.part_vectors, text=seg.written[:TEXT_KEEP],
        ))  # fmt: skip
    return items


_Decoded = tuple[list[tuple["_Todo", str, Media | VideoInfo]], list[Failure]]


def _failure(todo: _Todo, e: MediaError) -> Failure:
    return Failure(str(todo.path), todo.size, todo.mtime, e.cause, time.time())


def _decode_batch(batch: list[_Todo], image_side: int | None) -> _Decoded:
    """Decode a batch; bad files become failures. Runs in a worker thread (Pillow, PyAV and
    ONNX Runtime release the GIL), so the next batch decodes while this one encodes.
    A video is only probed here: it is decoded as a stream while it is encoded."""
    decoded: list[tuple[_Todo, str, Media | VideoInfo]] = []
    failures = []
    for todo in batch:
        try:
            kind = media.sniff(todo.path)
            if kind is MediaKind.VIDEO:
                decoded.append((todo, kind.value, probe(todo.path)))
            else:
                decoded.append((todo, kind.value, media.decode(todo.path, kind, image_side)))
        except MediaError as e:
            failures.append(_failure(todo, e))
    return decoded, failures


def _write_batch(
    store: Store, space: SharedSpace, batch: _Decoded, report: IngestReport, video_fps: float
) -> None:
    decoded, failures = batch
    plain = [(t, k, m) for t, k, m in decoded if not isinstance(m, VideoInfo)]
    embedded = space.embed([m for _, _, m in plain])
    items = [_item(t, k, m, e, space) for (t, k, m), e in zip(plain, embedded)]
    report.warnings.extend((e.path, w) for e in embedded for w in e.warnings)
    done = [t for t, _, _ in plain]
    for t, _, info in decoded:
        if not isinstance(info, VideoInfo):
            continue
        try:
            analysis = analyze(t.path, space, fps=video_fps, info=info)
            items.extend(_video_items(t, analysis, space))
            done.append(t)
        except MediaError as e:
            failures.append(_failure(t, e))
    store.upsert(items)  # one commit: the whole batch or nothing
    store.record_failures(failures)
    report.failed.extend((f.path, f.error) for f in failures)
    for t in done:
        if t.known:
            report.updated += 1
        else:
            report.added += 1


def _plan(
    paths: list[Path], states: dict[str, FileState], report: IngestReport, space: SharedSpace
) -> tuple[list[_Todo], dict[str, float]]:
    """Which files to encode, and which only need their mtime recorded. A file stored through
    other models than the space's (an adapter turned on, another Whisper) is encoded again."""
    todo: list[_Todo] = []
    touched: dict[str, float] = {}
    for path in paths:
        try:
            media.check_regular(path)  # hashing a named pipe or /dev/zero would never end
            st = path.stat()
        except MediaError as e:
            report.failed.append((str(path), e.cause))
            continue
        except OSError as e:
            report.failed.append((str(path), e.strerror or str(e)))
            continue
        known = states.get(str(path))
        if known and not known.failed and known.models != _models(space, known.kind):
            todo.append(_Todo(path, st.st_size, st.st_mtime, sha256_file(path), True))
            continue
        if known and known.size == st.st_size and known.mtime == st.st_mtime:
            if known.failed:
                report.failed.append((str(path), "unchanged since it failed"))
            else:
                report.unchanged += 1
            continue
        sha = sha256_file(path)
        if known and not known.failed and known.sha256 == sha:
            touched[str(path)] = st.st_mtime
            report.unchanged += 1
            continue
        todo.append(_Todo(path, st.st_size, st.st_mtime, sha, bool(known and not known.failed)))
    return todo, touched


def _resolved(paths: Iterable[Path], report: IngestReport) -> list[Path]:
    """Absolute paths without links, each once; a link loop or a file name that is not UTF-8
    (the store keeps paths as UTF-8 text) is a failed line, not a traceback."""
    out = set()
    for p in paths:
        try:
            str(p).encode()
            out.add(p.resolve())
        except UnicodeEncodeError:
            name = os.fsencode(p).decode("utf-8", "backslashreplace")
            report.failed.append((name, "the file name is not valid UTF-8: rename the file"))
        except (RuntimeError, OSError) as e:  # pathlib raises RuntimeError on a loop
            report.failed.append((str(p), f"cannot resolve the path ({e})"))
    return sorted(out)


def _gone(roots: list[Path], seen: set[str], states: dict[str, FileState]) -> list[str]:
    """Stored paths under the ingested roots whose files no longer exist."""
    prefixes = [str(r) if r.is_file() else str(r).rstrip("/") + "/" for r in roots]
    return [p for p in states if p not in seen and any(p == x or p.startswith(x) for x in prefixes)]


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
) -> IngestReport:
    t0 = time.perf_counter()
    report = IngestReport()
    files = _resolved(paths, report)
    states = store.states()
    todo, touched = _plan(files, states, report, space)
    store.touch(touched)
    on_planned(len(todo))
    batches = [todo[s : s + batch_size] for s in range(0, len(todo), batch_size)]
    side = None if space.options.ocr else SIZE  # text in images is read at full size
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_decode_batch, batches[0], side) if batches else None
        for i, batch in enumerate(batches):
            assert pending is not None
            decoded = pending.result()
            if i + 1 < len(batches):  # at most two batches are held in memory
                pending = pool.submit(_decode_batch, batches[i + 1], side)
            _write_batch(store, space, decoded, report, video_fps)
            on_done(len(batch))
    if sync:
        gone = _gone([r.resolve() for r in roots], {str(p) for p in files}, states)
        store.delete(gone)
        report.removed = len(gone)
    store.maintain()
    report.seconds = time.perf_counter() - t0
    return report
