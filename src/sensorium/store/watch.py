"""Keep a collection in step with its folders: new, changed, moved and removed files.

    catch-up    one ingest of the folders with sync, first: what changed while nobody watched
    observer    watchdog's thread (inotify; polling where inotify cannot watch, or chosen):
                each event notes its path and when (``_Changes``)
    the loop    every ``TICK``: a noted folder becomes its files; a file is ready once its size
                and mtime have held for ``settle`` s (never read half-written; 0.2 s once
                its writer closed it or renamed it into place, as inotify tells), a path is
                gone once it has stayed away ``settle`` s; when nothing else is still
                settling (or the ready ones have waited ``settle`` s more), the ready files
                are one batch: one ``ingest`` (its stages commit ``batch_size`` files at a
                time), and the stored items of gone paths (a folder's too) are forgotten

So a hundred files dropped at once are one batch, not a hundred model calls. A moved file is
a gone path and a new one. A stop (``stop`` set: Ctrl-C, SIGTERM) is seen between two commits:
the batch's remaining files are left, and the next run's catch-up takes them, as it takes
whatever changed meanwhile; every commit is whole, so nothing is lost or stored twice.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from sensorium.errors import UsageError
from sensorium.media.metadata import is_sidecar
from sensorium.media.names import path_text
from sensorium.perceive.inputs import expand_paths
from sensorium.space import SharedSpace
from sensorium.store.base import Store
from sensorium.store.ignore import IGNORE_FILE, Ignore
from sensorium.store.ingest import IngestReport, ingest

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

    from sensorium.store.people import People

__all__ = ["WatchBatch", "WatchOptions", "WatchStatus", "Watcher"]

TICK = 0.1  # seconds between two looks at what the observer noted
# File systems whose changes made elsewhere inotify never hears of: polled instead.
REMOTE_FS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "vboxsf",
                       "afs", "ceph", "glusterfs", "fuse.sshfs", "fuse.rclone", "fuse.s3fs",
                       "fuse.gcsfuse", "davfs"})  # fmt: skip
QUIET_EVENTS = frozenset({"opened", "closed_no_write"})  # reads, ours included
# A file whose writer closed it (inotify's IN_CLOSE_WRITE), or renamed into place, is whole:
# it waits only this long (for a writer that opens it again at once), not ``settle``.
CLOSED_SETTLE = 0.2


@dataclass(frozen=True)
class WatchOptions:
    # seconds a file's size and mtime must hold before it is read (``CLOSED_SETTLE`` once
    # inotify saw its writer close it: whole then)
    settle: float = 1.0
    polling: bool = False  # poll the folders instead of inotify (network file systems)
    poll_interval: float = 1.0  # seconds between two polls, when polling
    batch_size: int = 32  # files encoded and committed together within a batch
    video_fps: float = 1.0  # video frames sampled per second
    exclude: tuple[str, ...] = ()  # gitignore patterns of files left out (``store.ignore``)
    catch_up: bool = True  # ingest the folders (with sync) before watching them

    def verify(self) -> None:
        if self.settle < 0:
            raise UsageError("settle must be 0 or more seconds")
        if self.poll_interval <= 0:
            raise UsageError("poll_interval must be above 0 seconds")
        if self.batch_size < 1:
            raise UsageError("batch_size must be at least 1")
        if self.video_fps <= 0:
            raise UsageError("video_fps must be above 0")


@dataclass
class WatchBatch:
    """One batch, as ``on_batch`` gets it: what the ingest did (``removed`` counts the
    gone paths' items forgotten), and whether it was the catch-up (or a rescan after the
    observer lost events)."""

    report: IngestReport
    files: list[str] = field(default_factory=list)  # the changed and gone paths it took
    catch_up: bool = False

    def summary(self) -> str:
        r = self.report
        what = "catch-up" if self.catch_up else f"{len(self.files)} changed"
        return (f"{what}: added {r.added}, updated {r.updated}, removed {r.removed}, "
                f"failed {len(r.failed)} in {r.seconds:.1f} s")  # fmt: skip


@dataclass
class WatchStatus:
    """Where a watcher stands (``Watcher.status``; ``/api/stats`` serves it): what it
    watches and how, whether it has caught up, what waits to settle, and what its batches
    did since it started."""

    folders: list[str]
    observer: str | None  # "inotify" or "polling"; None before it starts
    watching: bool  # caught up, and following changes
    pending: int  # changed files waiting for their writes to settle
    batches: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    failed: int = 0
    last_batch: float | None = None  # when the last batch was committed (Unix time)
    error: str | None = None  # what stopped it, when something did

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    def count(self, batch: WatchBatch) -> None:
        r = batch.report
        self.batches += 1
        self.added, self.updated = self.added + r.added, self.updated + r.updated
        self.removed, self.failed = self.removed + r.removed, self.failed + len(r.failed)
        self.last_batch = time.time()


class _Stopped(Exception):
    """Raised between two commits once ``stop`` is set: the batch's rest is left."""


class _Changes(FileSystemEventHandler):
    """watchdog's handler: path -> when its last event came and whether that event said the
    file is whole (closed after writing, or renamed into place); the observer's thread
    writes, the loop takes. Whether events were lost, and whether an ignore file changed."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._seen: dict[Path, tuple[float, bool]] = {}
        self.lost = False
        self.ignore_changed = False

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.event_type == "events_lost":  # the kernel's queue overflowed
            with self._lock:
                self.lost = True
            return
        if event.event_type in QUIET_EVENTS or (event.is_directory and
                                                event.event_type == "modified"):  # fmt: skip
            return  # a folder is "modified" by each file made in it: its files tell
        now = time.monotonic()
        with self._lock:
            closed = event.event_type == "closed" and not event.is_directory
            for raw, whole in ((event.src_path, closed), (getattr(event, "dest_path", ""), True)):
                if not raw:
                    continue
                path = Path(os.fsdecode(raw))
                if path.name == IGNORE_FILE:
                    self.ignore_changed = True
                elif not path.name.startswith("."):  # hidden, as a listing skips them
                    self._seen[path] = (now, whole)

    def take(self) -> tuple[dict[Path, tuple[float, bool]], bool, bool]:
        with self._lock:
            seen, self._seen = self._seen, {}
            lost, self.lost = self.lost, False
            changed, self.ignore_changed = self.ignore_changed, False
        return seen, lost, changed


@dataclass
class _Pending:
    since: float  # monotonic time of its last event, or of the last change its stat showed
    looked: bool = False  # its stat was taken at least once
    whole: bool = False  # its last event said it is whole: ``CLOSED_SETTLE`` is enough
    stat: tuple[int, int] | None = None  # (size, mtime_ns) last seen; None: absent


def _remote(root: Path) -> str | None:
    """The file system type of a folder on a network or VM share (inotify misses changes
    made on other machines), else None. Linux only: elsewhere nothing is known."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    best, kind = "", ""
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        if root.is_relative_to(point) and len(point) > len(best):
            best, kind = point, parts[2]
    return kind if kind in REMOTE_FS else None


def _observer(roots: list[Path], handler: _Changes, options: WatchOptions,
              note: Callable[[str], None]) -> tuple[BaseObserver, str]:  # fmt: skip
    """A started observer of the roots and its name: inotify (watchdog's native observer),
    or polling when chosen, when a root is on a network share, or when inotify fails
    (its watch limit reached)."""
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    remote = {r: kind for r in roots if (kind := _remote(r))}
    if not options.polling and not remote:
        native = Observer()
        try:
            for root in roots:
                native.schedule(handler, str(root), recursive=True)
            native.start()
            return native, "inotify" if "Inotify" in type(native).__name__ else "native"
        except OSError as e:
            native.stop()
            why = e.strerror or str(e)
            note(f"inotify cannot watch ({why}; fs.inotify.max_user_watches?): "
                 f"polling every {options.poll_interval:g} s instead")  # fmt: skip
    for root, kind in remote.items():
        note(f"{path_text(root)} is on {kind}: polling every {options.poll_interval:g} s")
    poller = PollingObserver(timeout=options.poll_interval)
    for root in roots:
        poller.schedule(handler, str(root), recursive=True)
    poller.start()
    return poller, "polling"


class Watcher:
    """Watches ``roots`` (folders) and keeps ``store`` in step with them: ``run(stop)`` in
    the calling thread until ``stop`` is set, or ``start()`` in a thread of its own and
    ``stop()``.

    ``lock``: held around every write (an ingest job of the service shares it), so the
    store has one writer at a time. ``on_batch`` gets each batch once committed; ``note``
    gets one-line messages (the observer in use, a fallback, a bad ignore file)."""

    def __init__(
        self, store: Store, space: SharedSpace, roots: Sequence[str | Path],
        options: WatchOptions | None = None, lock: threading.Lock | None = None,
        on_batch: Callable[[WatchBatch], None] = lambda _: None,
        note: Callable[[str], None] = lambda _: None,
    ) -> None:  # fmt: skip
        self.options = options or WatchOptions()
        self.options.verify()
        self.roots = [Path(r).resolve() for r in roots]
        for root, given in zip(self.roots, roots):
            if not root.is_dir():
                raise UsageError(f"{given}: not a folder (only folders can be watched)")
        self.store, self.space = store, space
        self.lock = lock or threading.Lock()
        self.on_batch, self.note = on_batch, note
        self.ignore = Ignore(self.roots, self.options.exclude)
        # the collection's own files, when it lies in a watched folder: each commit changes them
        own = getattr(store, "folder", None)
        self.own = Path(own).resolve() if own is not None and "://" not in str(own) else None
        self.pending: dict[Path, _Pending] = {}
        self.observer_name: str | None = None  # once watching: "inotify" or "polling"
        self.watching = threading.Event()  # set once the catch-up is done and events count
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None  # what ended the thread, raised by ``stop``
        self._done = WatchStatus([path_text(r) for r in self.roots], None, False, 0)

    def start(self) -> Watcher:
        """Run in a daemon thread (``stop()`` ends it)."""

        def main() -> None:
            try:
                self.run(self._stop)
            except BaseException as e:  # raised again in the thread that calls stop
                self._error = e

        self._thread = threading.Thread(target=main, name="sensorium-watch", daemon=True)
        self._thread.start()
        return self

    def status(self) -> WatchStatus:
        """Where it stands now (a copy: the watcher's thread goes on counting)."""
        error = self._error
        return dataclasses.replace(
            self._done, observer=self.observer_name, watching=self.watching.is_set(),
            pending=len(self.pending), error=None if error is None else _line(error),
        )  # fmt: skip

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread after the commit in hand and wait for it (``timeout`` s at most);
        an error that ended it is raised here."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    # -- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Catch up, then watch until ``stop`` is set (from a signal handler or a thread)."""
        changes = _Changes()
        observer, self.observer_name = _observer(self.roots, changes, self.options, self.note)
        try:  # the observer runs before the catch-up: what changes during it is noted
            if self.options.catch_up:
                self._batch(stop, catch_up=True)
            self.watching.set()
            while not stop.wait(TICK):
                self._tick(changes, stop)
        except _Stopped:
            pass
        finally:
            observer.stop()
            observer.join(timeout=10)
            self.watching.clear()

    def _tick(self, changes: _Changes, stop: threading.Event) -> None:
        seen, lost, ignore_changed = changes.take()
        if ignore_changed:
            self._reload_ignore()
        if lost:
            self.note("the observer lost events: rescanning the folders")
            self.pending.clear()
            self._batch(stop, catch_up=True)
            return
        for path, (when, whole) in seen.items():
            self._note_path(path, when, whole)
        ready = self._ready(time.monotonic())
        if ready:
            self._batch(stop, paths=ready)

    def _skipped(self, path: Path) -> bool:
        """The collection's own files, and files in hidden folders (``.git``, ``.cache``)."""
        if self.own is not None and path.is_relative_to(self.own):
            return True
        root = next((r for r in self.roots if path.is_relative_to(r)), None)
        return root is not None and any(p.startswith(".") for p in path.relative_to(root).parts)

    def _note_path(self, path: Path, when: float, whole: bool) -> None:
        if self._skipped(path):
            return
        if path.is_dir() and not path.is_symlink():  # made or moved in: its files, each
            for file in expand_paths([path]):
                if not self._skipped(file):
                    self.pending[file] = _Pending(when)
            return
        pending = self.pending.setdefault(path, _Pending(when))
        pending.since, pending.whole = max(pending.since, when), whole

    def _ready(self, now: float) -> list[Path]:
        """The pending paths whose size and mtime (or absence) held for ``settle`` s (a file
        closed by its writer: ``CLOSED_SETTLE``), when nothing else is settling or they
        waited ``settle`` s more: one batch then."""
        settle = self.options.settle
        ready, waiting = [], False
        oldest = now
        for path, pending in self.pending.items():
            try:
                st = path.stat()
                stat: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
            except OSError:
                stat = None
            if pending.looked and stat != pending.stat:  # written (or gone) since last look
                pending.since, pending.whole = now, False
            pending.stat, pending.looked = stat, True
            wait = min(settle, CLOSED_SETTLE) if pending.whole and stat else settle
            if now - pending.since >= wait:
                ready.append(path)
                oldest = min(oldest, pending.since + wait)
            else:
                waiting = True
        if not ready or (waiting and now - oldest < settle):
            return []
        for path in ready:
            del self.pending[path]
        return ready

    def _reload_ignore(self) -> None:
        fresh = Ignore(self.roots, self.options.exclude)
        try:
            for root in self.roots:
                fresh(root / "probe")  # reads the roots' ignore files now: a bad one says so
        except UsageError as e:
            self.note(f"{e} (the ignore files as they were are kept)")
            return
        self.ignore = fresh

    # -- a batch -------------------------------------------------------------------------

    def _batch(self, stop: threading.Event, paths: list[Path] | None = None,
               catch_up: bool = False) -> None:  # fmt: skip
        """One ingest (of ``paths``; of the whole folders, with sync, on a catch-up), then
        the gone paths forgotten; ``_Stopped`` between two commits once ``stop`` is set."""

        def committed(_: int) -> None:
            if stop.is_set():
                raise _Stopped

        o = self.options
        # a sidecar removed is its photo's change (ingest reads the photo again), not a file gone
        files = expand_paths(self.roots) if catch_up else [
            p for p in paths or [] if p.exists() or is_sidecar(p)]  # fmt: skip
        gone = [] if catch_up else [p for p in paths or [] if not (p.exists() or is_sidecar(p))]
        files = [f for f in files if not (self._skipped(f) or self.ignore(f))]
        if not (files or gone or catch_up):
            return
        t0 = time.perf_counter()
        with self.lock:
            report = ingest(self.store, self.space, files, list(self.roots), sync=catch_up,
                            batch_size=o.batch_size, video_fps=o.video_fps,
                            on_done=committed, exclude=o.exclude,
                            people=_people(self.store))  # fmt: skip
            report.removed += self._forget(gone)
        report.seconds = time.perf_counter() - t0
        taken = [path_text(p) for p in [*files, *gone]]
        batch = WatchBatch(report, [] if catch_up else taken, catch_up)
        self._done.count(batch)
        self.on_batch(batch)

    def _forget(self, gone: list[Path]) -> int:
        """Forget the items (and failures) stored under the gone paths: a file, or a folder
        moved away or removed with its files."""
        doomed: set[str] = set()
        for path in gone:
            text = path_text(path)
            doomed |= {p for p in self.store.states(text)
                       if p == text or p.startswith(text.rstrip("/") + "/")}  # fmt: skip
        if doomed:
            self.store.delete(sorted(doomed))
        return len(doomed)


def _people(store: Store) -> People | None:
    """The collection's people when its ``people`` setting is on (read at each batch: the
    setting may change while it is watched)."""
    on = getattr(store, "people_on", False)
    return getattr(store, "people", None) if on else None


def _line(error: BaseException) -> str:
    """What stopped a watcher, in one line (its kind and first line, no traceback)."""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:300]
