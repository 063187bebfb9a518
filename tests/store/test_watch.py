"""Watching folders (store/watch.py) and leaving files out (store/ignore.py), on real photos and
sounds with the real models: new, changed, moved and removed files; a file still being
written; one batch for many files; inotify, polling, and the fallback; SIGTERM and a restart."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from sensorium.collection import Collection
from sensorium.engine import Engine
from sensorium.eval.datasets import TUXPAINT
from sensorium.store import LanceStore
from sensorium.store.watch import WatchBatch, Watcher, WatchOptions

WAIT = 60.0  # seconds a change may take on 2 busy cores before a test fails
Start = Callable[..., tuple[Collection, Watcher, list[WatchBatch]]]  # the ``watched`` fixture


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()  # the models load once for the module


def _until(what: str, check: Callable[[], bool], seconds: float = WAIT) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"still not {what} after {seconds:.0f} s")


def _stored(coll: Collection | LanceStore, folder: Path) -> set[str]:
    """The stored paths under ``folder`` (failures too), relative to it."""
    store = coll.store if isinstance(coll, Collection) else coll
    return {os.path.relpath(p, folder.resolve()) for p in store.states(str(folder.resolve()))}


def _stamps(n: int, start: int = 0) -> list[Path]:
    return sorted((TUXPAINT / "animals").rglob("*.png"))[start : start + n]


@pytest.fixture()
def watched(tmp_path: Path, engine: Engine) -> Iterator[Start]:
    """``start(folder, **options)``: a collection watching ``folder`` (caught up), the
    watcher, and the batches it has committed; stopped after the test."""
    started: list[Watcher] = []

    def start(folder: Path, **options: object) -> tuple[Collection, Watcher, list[WatchBatch]]:
        coll = Collection(tmp_path / "db", engine)
        batches: list[WatchBatch] = []
        watcher = coll.watcher([folder], WatchOptions(**options), batches.append).start()  # type: ignore[arg-type]
        started.append(watcher)
        _until("caught up", watcher.watching.is_set)
        return coll, watcher, batches

    yield start
    for w in started:
        w.stop(timeout=WAIT)


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_new_changed_moved_and_removed_files_follow(
    watched: Start, tmp_path: Path,
    photos: dict[str, Path], polling: bool,
) -> None:  # fmt: skip
    folder = tmp_path / "photos"
    (folder / "trip").mkdir(parents=True)
    shutil.copy(photos["astronaut"], folder / "astronaut.jpg")
    (folder / "note.txt").write_text("Quarterly budget review on Tuesday.")
    coll, watcher, _ = watched(folder, settle=0.3, polling=polling, poll_interval=0.3)
    assert watcher.observer_name == ("polling" if polling else "inotify")
    assert _stored(coll, folder) == {"astronaut.jpg", "note.txt"}  # the catch-up

    shutil.copy(photos["coffee"], folder / "trip" / "coffee.jpg")  # new: searchable
    _until("found", lambda: bool((hits := coll.search("a cup of coffee", k=1))
                                 and hits[0].item.path.endswith("coffee.jpg")))  # fmt: skip
    coffee = coll.show(str(folder / "trip" / "coffee.jpg"))
    assert coffee is not None and "trip" in coffee.keywords  # its folder, as an ingest stores it

    (folder / "note.txt").write_text("Holiday plans for the summer.")  # changed
    _until("updated", lambda: (n := coll.show(str(folder / "note.txt"))) is not None
           and n.text.startswith("Holiday"))  # fmt: skip

    (folder / "trip" / "coffee.jpg").rename(folder / "cup.jpg")  # moved
    _until("moved", lambda: _stored(coll, folder) == {"astronaut.jpg", "note.txt", "cup.jpg"})
    assert coll.search("a cup of coffee", k=1)[0].item.path == str(folder / "cup.jpg")

    (folder / "astronaut.jpg").unlink()  # removed
    shutil.move(folder / "trip", tmp_path / "elsewhere")  # a folder moved out, with its files
    _until("removed", lambda: _stored(coll, folder) == {"note.txt", "cup.jpg"})
    assert coll.stats()["items"] == 2 and coll.stats()["failed"] == 0


def test_a_folder_moved_in_and_a_bad_file(
    watched: Start, tmp_path: Path,
    photos: dict[str, Path],
) -> None:  # fmt: skip
    folder, outside = tmp_path / "photos", tmp_path / "outside"
    folder.mkdir()
    (outside / "deep").mkdir(parents=True)
    shutil.copy(photos["rocket"], outside / "deep" / "rocket.jpg")
    coll, _, batches = watched(folder, settle=0.3)
    (outside / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    shutil.move(outside, folder / "outside")
    _until("taken", lambda: _stored(coll, folder) == {"outside/deep/rocket.jpg",
                                                      "outside/broken.png"})  # fmt: skip
    _until("reported", lambda: any(b.report.failed for b in batches))
    failed = [f for b in batches for f in b.report.failed]
    assert [Path(p).name for p, _ in failed] == ["broken.png"]  # one line, the rest stored
    assert coll.stats()["items"] == 1 and coll.stats()["failed"] == 1


def test_the_collection_inside_the_folder_it_watches(tmp_path: Path, engine: Engine,
                                                     photos: dict[str, Path]) -> None:  # fmt: skip
    """Its own files change with every commit: never taken for photos (no loop of batches);
    files in hidden folders are left out, as by an ingest."""
    folder = tmp_path / "photos"
    (folder / ".cache").mkdir(parents=True)
    coll = Collection(folder / "collection", engine)
    batches: list[WatchBatch] = []
    watcher = coll.watcher([folder], WatchOptions(settle=0.3), batches.append).start()
    try:
        _until("caught up", watcher.watching.is_set)
        shutil.copy(photos["coffee"], folder / "coffee.jpg")
        shutil.copy(photos["rocket"], folder / ".cache" / "rocket.jpg")
        _until("stored", lambda: _stored(coll, folder) == {"coffee.jpg"})
        time.sleep(2.0)  # what the commit wrote had time to settle and come back
        assert _stored(coll, folder) == {"coffee.jpg"} and coll.stats()["failed"] == 0
        assert len(batches) == 2, [b.summary() for b in batches]  # the catch-up, the photo
    finally:
        watcher.stop(timeout=WAIT)


def test_a_file_still_being_written_waits_until_it_settles(
    watched: Start, tmp_path: Path,
    photos: dict[str, Path],
) -> None:  # fmt: skip
    """A JPEG written in pieces with pauses shorter than ``settle`` is not read until the
    writes stop: never stored half (a failure), once whole (its full content's hash)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    coll, _, batches = watched(folder, settle=1.0)
    data = photos["chelsea"].read_bytes()
    pieces = [data[i : i + len(data) // 6] for i in range(0, len(data), len(data) // 6)]
    with open(folder / "cat.jpg", "wb") as out:
        for piece in pieces:
            out.write(piece)
            out.flush()
            time.sleep(0.6)  # 3.6 s of writing in all, each pause under the settle time
            assert _stored(coll, folder) == set(), "a half-written file was read"
    _until("stored", lambda: _stored(coll, folder) == {"cat.jpg"})
    cat = coll.show(str(folder / "cat.jpg"))
    import hashlib

    assert cat is not None and cat.sha256 == hashlib.sha256(data).hexdigest()
    _until("reported", lambda: sum(b.report.added for b in batches) == 1)
    assert coll.stats()["failed"] == 0


def test_many_files_dropped_at_once_are_one_batch(
    watched: Start, tmp_path: Path,
) -> None:  # fmt: skip
    folder = tmp_path / "stamps"
    folder.mkdir()
    coll, _, batches = watched(folder, settle=0.5, batch_size=8)
    for stamp in _stamps(30):
        shutil.copy(stamp, folder / stamp.name)
    _until("reported", lambda: sum(b.report.added for b in batches) == 30)
    changed = [b for b in batches if not b.catch_up]
    assert len(changed) == 1 and changed[0].report.added == 30, [b.summary() for b in changed]
    assert len(_stored(coll, folder)) == 30


def _ignoring_folder(tmp_path: Path, photos: dict[str, Path]) -> Path:
    """Photos and a sound, some left out by an ignore file (one nested, re-including)."""
    folder = tmp_path / "media"
    (folder / "drafts").mkdir(parents=True)
    (folder / "sub").mkdir()
    (folder / ".sensoriumignore").write_text("# left out\n*.tmp\ndrafts/\n")
    (folder / "sub" / ".sensoriumignore").write_text("!keep.tmp\n")
    shutil.copy(photos["astronaut"], folder / "astronaut.jpg")
    shutil.copy(photos["coffee"], folder / "coffee.tmp")
    shutil.copy(photos["rocket"], folder / "drafts" / "rocket.jpg")
    shutil.copy(photos["chelsea"], folder / "sub" / "keep.tmp")
    shutil.copy(TUXPAINT / "animals/birds/crow.ogg", folder / "sub" / "crow.ogg")
    return folder


def test_exclude_and_ignore_files_in_ingest(
    tmp_path: Path, engine: Engine, photos: dict[str, Path]
) -> None:
    folder = _ignoring_folder(tmp_path, photos)
    coll = Collection(tmp_path / "db", engine)
    report = coll.ingest([folder], exclude=["*.ogg"])
    assert _stored(coll, folder) == {"astronaut.jpg", "sub/keep.tmp"}
    assert (report.added, report.excluded, report.failed) == (2, 3, [])
    # a pattern added later: with sync, what it leaves out is removed
    (folder / ".sensoriumignore").write_text("*.tmp\ndrafts/\nsub/\n")
    report = coll.ingest([folder], sync=True)
    assert _stored(coll, folder) == {"astronaut.jpg"} and report.removed == 1
    assert report.excluded == 4  # coffee.tmp, drafts/rocket.jpg, sub/keep.tmp, sub/crow.ogg
    with pytest.raises(Exception, match=r"--exclude line 1: not a pattern: '!'"):
        coll.ingest([folder], exclude=["!"])


def test_exclude_in_the_ray_executor(tmp_path: Path, engine: Engine,
                                     photos: dict[str, Path]) -> None:  # fmt: skip
    """The Ray executor plans through the same matcher: all left out, nothing to send."""
    from sensorium.distributed import RayOptions

    folder = _ignoring_folder(tmp_path, photos)
    coll = Collection(tmp_path / "db", engine)
    report = coll.ingest([folder], exclude=["*.jpg", "sub/"], ray=RayOptions(workers=1))
    assert (report.added, report.excluded, len(report.failed)) == (0, 5, 0)
    assert _stored(coll, folder) == set()


def test_exclude_and_ignore_files_in_watch(
    watched: Start, tmp_path: Path,
    photos: dict[str, Path],
) -> None:  # fmt: skip
    folder = _ignoring_folder(tmp_path, photos)
    coll, _, _ = watched(folder, settle=0.3, exclude=("*.ogg",))
    assert _stored(coll, folder) == {"astronaut.jpg", "sub/keep.tmp"}
    shutil.copy(photos["coffee"], folder / "drafts" / "coffee.jpg")  # left out
    shutil.copy(photos["coffee"], folder / "late.tmp")  # left out
    shutil.copy(TUXPAINT / "animals/birds/crow.ogg", folder / "crow.ogg")  # left out
    (folder / ".sensoriumignore").write_text("*.tmp\ndrafts/\nlate*\n")  # read again
    shutil.copy(photos["coffee"], folder / "late.jpg")  # left out by the new line
    shutil.copy(photos["rocket"], folder / "rocket.jpg")  # taken
    _until("stored", lambda: "rocket.jpg" in _stored(coll, folder))
    time.sleep(1.0)  # what was left out had as long to settle
    assert _stored(coll, folder) == {"astronaut.jpg", "sub/keep.tmp", "rocket.jpg"}


def test_polling_when_inotify_cannot_watch(
    watched: Start, tmp_path: Path,
    photos: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """inotify's watch limit reached (ENOSPC, as the kernel says it): polling instead, said."""
    import errno

    import watchdog.observers
    from watchdog.observers.inotify import InotifyObserver

    class Full(InotifyObserver):
        def start(self) -> None:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watchdog.observers, "Observer", Full)
    folder = tmp_path / "photos"
    folder.mkdir()
    notes: list[str] = []
    coll = Collection(tmp_path / "db", Engine())
    watcher = coll.watcher([folder], WatchOptions(settle=0.3, poll_interval=0.3),
                           note=notes.append).start()  # fmt: skip
    try:
        _until("caught up", watcher.watching.is_set)
        assert watcher.observer_name == "polling"
        assert notes and "inotify watch limit reached" in notes[0] and "polling" in notes[0]
        shutil.copy(photos["coffee"], folder / "coffee.jpg")
        _until("stored", lambda: _stored(coll, folder) == {"coffee.jpg"})
    finally:
        watcher.stop(timeout=WAIT)


# -- the command: SIGTERM, and a restart that catches up -----------------------------------


def _start(folder: Path, db: Path, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "sensorium", "ingest", str(folder), "--db", str(db),
           "--watch", "--settle", "0.3", *extra]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _read_until(stream: IO[str], word: str, seen: list[str]) -> None:
    """Read the process's stderr lines until one holds ``word`` (in a thread: bounded)."""
    done = threading.Event()

    def read() -> None:
        for line in stream:
            seen.append(line)
            if word in line:
                done.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not done.wait(WAIT * 2):
        pytest.fail(f"no line with {word!r}: {''.join(seen)}")


def _rows(db: Path) -> list[str]:
    paths = [r["path"] for r in LanceStore(db).items.to_arrow().select(["path"]).to_pylist()]
    assert len(paths) == len(set(paths)), "an item was doubled"
    return paths


def test_sigterm_stops_cleanly_and_a_restart_catches_up(tmp_path: Path) -> None:
    folder, db = tmp_path / "stamps", tmp_path / "db"
    folder.mkdir()
    stamps = _stamps(24)
    for s in stamps[:2]:
        shutil.copy(s, folder / s.name)
    proc = _start(folder, db, "--batch-size", "4")
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        _read_until(proc.stderr, "watching", lines)
        assert len(_rows(db)) == 2  # caught up
        for s in stamps[2:]:  # 22 files: one batch, committed 4 at a time
            shutil.copy(s, folder / s.name)
        _until("committing", lambda: len(_rows(db)) > 2, WAIT * 2)
        proc.send_signal(signal.SIGTERM)  # in the middle of the batch, most likely
        assert proc.wait(WAIT) == 0, "".join(lines) + proc.stderr.read()
        stopped = len(_rows(db))
        assert stopped == 24 or (stopped - 2) % 4 == 0  # whole commits only

        # while nobody watches: one removed, one rewritten, one added
        (folder / stamps[0].name).unlink()
        shutil.copy(stamps[5], folder / stamps[1].name)
        late = _stamps(1, start=30)[0]
        shutil.copy(late, folder / late.name)
        proc = _start(folder, db)
        assert proc.stderr is not None
        _read_until(proc.stderr, "watching", lines)
        expected = {s.name for s in [*stamps[1:], late]}
        assert {Path(p).name for p in _rows(db)} == expected
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0
        import hashlib

        rewritten = LanceStore(db).get(str((folder / stamps[1].name).resolve()))
        assert rewritten is not None
        assert rewritten.sha256 == hashlib.sha256(stamps[5].read_bytes()).hexdigest()
    finally:
        if proc.poll() is None:
            proc.kill()
