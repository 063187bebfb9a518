"""What the routes share: the collection, the bound on concurrent model calls, ingest jobs
(one writer at a time), the folders that ingest may read, and checked uploads."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import numpy as np
from PIL import Image

from sensorium import media
from sensorium.collection import Collection
from sensorium.engine import Engine, Settings
from sensorium.errors import MediaError, NotFoundError, SensoriumError, UsageError
from sensorium.media.types import AudioMedia, ImageMedia, MediaKind
from sensorium.service.contract import InvalidInput

if TYPE_CHECKING:
    from sensorium.store.watch import WatchBatch, Watcher

__all__ = ["Batched", "ForbiddenPath", "Job", "Service", "ServiceConfig"]

T = TypeVar("T")
ANSWERS = 512  # searches' answers kept (a page of 10 results is about 10 KB)


@dataclass(frozen=True)
class ServiceConfig:
    db: str | Path | None = (
        None  # folder or s3://bucket/prefix (None: $SENSORIUM_DB or ./.sensorium)
    )
    roots: tuple[Path, ...] = ()  # folders that POST /api/ingest may read (none: ingest off)
    max_upload_mb: float = 50.0  # request bodies above this are refused (413), never handed on
    token: str | None = None  # every /api call then needs Authorization: Bearer <token>
    model_calls: int = 2  # model calls at once (one per core on the 2-core target)
    warm: bool = True  # load the models at start-up, not on the first request
    watch: tuple[Path, ...] = ()  # folders kept in step with the collection while serving
    poll: bool = False  # watch them by polling instead of inotify (network shares)

    def __post_init__(self) -> None:
        if self.max_upload_mb <= 0:
            raise UsageError("--max-upload-mb must be above 0")
        if self.model_calls < 1:
            raise UsageError("model_calls must be at least 1")
        if self.token is not None and not self.token.strip():
            raise UsageError("--token must not be empty")
        for root in self.roots:
            if not root.is_dir():
                raise UsageError(f"--root {root}: not a folder")
        for folder in self.watch:
            if not folder.is_dir():
                raise UsageError(f"--watch {folder}: not a folder")

    @property
    def max_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


class ForbiddenPath(SensoriumError):
    """A path outside the --root folders (or through ``..`` or a link out of them)."""

    kind = "forbidden"


@dataclass
class Job:
    """An ingest run: queued, running, done or failed; progress in files."""

    id: str
    paths: list[str]
    state: str = "queued"
    total: int | None = None  # files to encode, once planned
    done: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)  # {"path", "error"}
    report: dict[str, Any] | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "state": self.state, "paths": len(self.paths), "total": self.total,
            "done": self.done, "failed": self.failed, "report": self.report, "error": self.error,
            "created": self.created, "finished": self.finished,
        }  # fmt: skip


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Answers:
    """Answers kept for the exact request that got them and the collection's version they
    were read from: a service is asked the same searches again and again (a page reloaded,
    the next page, a shared link), and each costs 5-30 ms of CPU to rank, explain and
    serialise. A commit makes a new version, so nothing kept is served after it; the least
    recently used go past ``size``."""

    def __init__(self, size: int = ANSWERS) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._kept.move_to_end(key)
            return found

    def put(self, key: Hashable, answer: Any) -> None:
        with self._lock:
            self._kept[key] = answer
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


class Batched:
    """Concurrent callers' texts encoded together, one batch at a time: the first caller
    encodes what every caller queued meanwhile (the model is faster per text in a batch:
    4.9 against 2.9 ms an English query on 2 cores, benchmarks' figures), the others wait
    for their rows. Each caller's rows are the same as its own call would give (the
    encoders' rows do not depend on their batch: tests/service/test_batched.py)."""

    def __init__(self, encoder: Any, most: int = 32) -> None:
        self.encoder = encoder
        self.dim: int = encoder.dim
        self.most = most  # texts a batch at most; a call of more goes alone
        self._cond = threading.Condition()
        self._queue: list[tuple[list[str], Future[np.ndarray]]] = []
        self._busy = False  # a caller is encoding a batch

    def encode(self, texts: list[str]) -> np.ndarray:
        """(N,) texts -> (N, 384), as ``encoder.encode`` gives them."""
        if len(texts) >= self.most:
            return self.encoder.encode(texts)  # type: ignore[no-any-return]
        mine: Future[np.ndarray] = Future()
        with self._cond:
            self._queue.append((texts, mine))
        while True:
            with self._cond:
                while self._busy and not mine.done():
                    self._cond.wait()
                if mine.done():
                    break
                self._busy = True  # this caller encodes the queue's first texts, its own too
                batch, self._queue = self._queue[: self.most], self._queue[self.most :]
            try:
                rows = self.encoder.encode([t for queued, _ in batch for t in queued])
                start = 0
                for queued, future in batch:
                    future.set_result(rows[start : start + len(queued)])
                    start += len(queued)
            except BaseException as e:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(e)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        return mine.result()


class Service:
    """One running service: its engine (the models), its collection, its jobs."""

    def __init__(self, config: ServiceConfig, collection: Collection | None = None,
                 engine: Engine | None = None) -> None:  # fmt: skip
        self.config = config
        # One engine: the collection's when it was opened with one (two would load every
        # model twice, and answer uploads through other models than the collection's)
        if engine is not None and collection is not None and collection.engine is not engine:
            raise UsageError("the service's engine must be its collection's")
        # Its own engine by default: the environment's settings, the cores shared among the
        # model calls that run at once (``Settings.sharing``)
        if engine is None:
            sharing = Settings.from_env().sharing(config.model_calls)
            engine = collection.engine if collection is not None else Engine(sharing)
        self.engine = engine
        self.collection = collection or Collection(config.db, self.engine)
        self.roots = [r.resolve() for r in config.roots]
        self.jobs: dict[str, Job] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self._limiter: anyio.CapacityLimiter | None = None
        self.started = time.time()
        self.ready = False
        self.choices = choices()
        self.watcher: Watcher | None = None
        self.answers = Answers()  # searches' answers, for their request and version

    def check_choice(self, operation: str, field: str, value: str) -> None:
        """Refuse a value outside one of the enums that ``choices`` gives the schema."""
        allowed = self.choices[operation][field]
        if value not in allowed:
            shown = ", ".join(allowed[:8]) + (", ..." if len(allowed) > 8 else "")
            raise InvalidInput(field, f"{field}: one of {shown}")

    # -- models ----------------------------------------------------------------------------

    def warm(self) -> None:
        """Load every model a request may need, once, before the first request."""
        space = self.engine.space
        space.text.encode(["warm"])
        # a query in another language: the multilingual model loads on the first text that
        # needs it, seconds during which every search waits on its lock otherwise
        space.any_text.encode(["ein warmer Hund"])
        memo = space.memo(any_language=True)  # what queries' texts are encoded through
        if not isinstance(memo.encoder, Batched):
            memo.encoder = Batched(memo.encoder)
        image = ImageMedia("warm.png", Image.new("RGB", (64, 64), "white"), 64, 64)
        sound = AudioMedia("warm.wav", np.zeros(16000, np.float32))
        space.embed([image, sound])
        self.collection.serve()  # the in-memory index, kept in step with the store
        self.ready = True

    async def model_call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound model work off the event loop, at most ``model_calls`` at once."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.config.model_calls)
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    def close(self) -> None:
        self._writer.shutdown(wait=False, cancel_futures=True)
        if self.watcher is not None:
            self.watcher.stop(timeout=30)  # after the commit in hand

    def served_version(self) -> int | None:
        """The collection's version that searches answer from now, or None while the served
        index still reads the latest (an answer then would be kept under the wrong one)."""
        latest = self.collection.store.version()
        index = self.collection.index
        return latest if index is None or index.sync().snapshot.version == latest else None

    # -- watch -----------------------------------------------------------------------------

    def start_watching(self) -> None:
        """``serve --watch``: the folders kept in step with the collection by a watcher in a
        thread of its own (its writes share the collection's lock with ingest jobs); the
        served index sees each commit at the next query. One line on stderr per batch."""
        if not self.config.watch:
            return
        from sensorium.store.watch import WatchOptions

        def say(line: str) -> None:
            print(f"watch: {line}", file=sys.stderr, flush=True)

        def batch(b: WatchBatch) -> None:
            for path, cause in b.report.failed:
                say(f"failed {path}: {cause}")
            say(b.summary())

        options = WatchOptions(polling=self.config.poll)
        self.watcher = self.collection.watcher(self.config.watch, options, batch, say).start()

    # -- ingest ----------------------------------------------------------------------------

    def check_path(self, raw: str) -> Path:
        """A client-given path -> the real path, if it lies under a root; else refused."""
        if not self.roots:
            raise ForbiddenPath("ingest is off: start the service with --root FOLDER")
        if not raw or "\x00" in raw or ".." in Path(raw).parts:
            raise ForbiddenPath(f"{raw!r}: not allowed (no '..' in paths)")
        path = Path(raw) if Path(raw).is_absolute() else self.roots[0] / raw
        given_roots = [*self.roots, *(r.absolute() for r in self.config.roots)]
        if not any(path.absolute().is_relative_to(r) for r in given_roots):
            raise ForbiddenPath(f"{raw}: outside the --root folders")
        try:
            real = path.resolve()  # links followed: a link out of a root is refused here
            inside = any(real.is_relative_to(r) for r in self.roots)
            exists = inside and real.exists()
        except OSError as e:  # a name too long, a loop of links
            raise NotFoundError(f"{raw[:200]}: {e.strerror or 'cannot be read'}") from e
        if not inside:
            raise ForbiddenPath(f"{raw}: leads outside the --root folders")
        if not exists:
            raise NotFoundError(f"{raw}: no such file or folder")
        return real

    def _files(self, paths: list[Path]) -> list[Path]:
        """Files under the checked paths, hidden ones and links out of the roots skipped."""
        out: list[Path] = []
        for path in paths:
            if path.is_file():
                out.append(path)
                continue
            for folder, dirs, names in os.walk(path):  # links to folders are not followed
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    real = (Path(folder) / name).resolve()
                    inside = any(real.is_relative_to(r) for r in self.roots)
                    if not name.startswith(".") and inside and real.is_file():
                        out.append(real)
        return out

    def submit_ingest(self, raw_paths: list[str]) -> Job:
        checked = [self.check_path(p) for p in raw_paths]  # refused before anything runs
        job = Job(uuid.uuid4().hex[:12], [str(p) for p in checked])
        self.jobs[job.id] = job
        self._writer.submit(self._run_job, job, checked)
        return job

    def _run_job(self, job: Job, paths: list[Path]) -> None:
        job.state = "running"
        try:
            files = self._files(paths)
            job.total = len(files)

            def planned(n: int) -> None:
                job.total = n

            def advance(n: int) -> None:
                job.done += n

            report = self.collection.ingest(files, on_planned=planned, on_done=advance)
            job.report = report.to_json()
            job.failed = job.report["failed"]  # type: ignore[assignment]
            job.state = "done"
        except SensoriumError as e:
            job.state, job.error = "failed", str(e).splitlines()[0]
        except Exception:  # a job must end, and say so, whatever happens
            job.state, job.error = "failed", "internal error (see the server log)"
            import logging

            logging.getLogger("sensorium.service").exception("ingest job %s", job.id)
        finally:
            job.finished = time.time()

    def job(self, job_id: str) -> Job:
        if job_id not in self.jobs:
            raise NotFoundError(f"no job {job_id!r}")
        return self.jobs[job_id]

    # -- uploads ---------------------------------------------------------------------------

    @staticmethod
    def upload_dir() -> tempfile.TemporaryDirectory[str]:
        return tempfile.TemporaryDirectory(prefix="sensorium-upload-")

    @staticmethod
    def upload_path(folder: str, filename: str | None, index: int) -> Path:
        """Where an upload is written: its own name made safe (it is shown in results)."""
        name = _SAFE_NAME.sub("_", Path(filename or "").name).strip("._") or "upload"
        return Path(folder) / str(index) / name[-120:]

    @staticmethod
    def check_media(path: Path) -> MediaKind:
        """The upload's kind, decoded whole (a video probed): its ``MediaError`` otherwise."""
        kind = media.sniff(path)
        if kind is MediaKind.VIDEO:
            from sensorium.media.video import probe

            probe(path)
        else:
            media.decode(path, kind)
        return kind


def choices() -> dict[str, dict[str, list[str]]]:
    """The enums that depend on what is installed: operation -> field -> values. The speech
    models whose files are here, and the languages Whisper knows."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    from sensorium.encoders.speech import WHISPER_MODELS
    from sensorium.models import get_card, is_ready

    models = [m for m, card in WHISPER_MODELS.items() if is_ready(get_card(card))]
    return {"transcribe": {"model": models, "language": sorted(_LANGUAGE_CODES)}}


def media_error_detail(e: MediaError) -> str:
    """One line naming the file by its name only: never a server path."""
    return f"{Path(e.path).name}: {e.cause.splitlines()[0] if e.cause else e.kind}"
