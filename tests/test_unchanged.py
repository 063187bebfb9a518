"""An ingest with nothing to do, told by the manifest without the store or a model; and never
told so once a file, an ignore file, the tables or the options changed, or after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sensorium
from sensorium import unchanged
from sensorium.collection import Collection, default_db
from sensorium.store.ignore import IGNORE_FILE
from sensorium.store.ingest import remember_unchanged

OLD_NS = 1_600_000_000 * 10**9  # an mtime well before any plan: never racy
TEXTS = {
    "a.txt": "The quarterly budget meeting moved to Thursday.",
    "b.txt": "Feed the cat twice a day while we are away.",
    "sub/c.txt": "Our train leaves Paris at nine in the morning.",
}
MODEL_CODE = ("faster_whisper", "onnxruntime", "ctranslate2", "torch", "av")
STORE = ("lancedb", "pyarrow", "pandas")


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    for name, text in TEXTS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
        os.utime(root / name, ns=(OLD_NS, OLD_NS))
    return root


def _remembered(coll: Collection, inputs: list[str], sync: bool = False) -> bool:
    return remember_unchanged(coll.store, coll.space, inputs, sync)


@pytest.fixture()
def ingested(folder: Path, tmp_path: Path) -> Collection:
    coll = sensorium.open(tmp_path / "db")
    assert coll.ingest([folder]).added == 3
    assert _remembered(coll, [str(folder)])
    return coll


def _told(coll: Collection, folder: Path, sync: bool = False) -> unchanged.IngestReport | None:
    return unchanged.unchanged(coll.folder, [str(folder)], sync, ())


def test_noop_ingest_from_the_shell_imports_no_model_code(folder: Path, tmp_path: Path) -> None:
    env = {**os.environ, "SENSORIUM_DB": str(tmp_path / "db")}
    cli = [sys.executable, "-m", "sensorium", "ingest", str(folder)]
    first = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0 and "added 3" in first.stdout, first.stderr
    probe = ("import sys\nfrom sensorium.cli import main\nsys.argv = ['sensorium', 'ingest', "
             f"{str(folder)!r}]\ntry:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
             "print('MODULES', code, *sorted({m.split('.')[0] for m in sys.modules}))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert "added 0, updated 0, unchanged 3, removed 0, failed 0" in done.stdout, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES"))
    code, *modules = line.split()[1:]
    assert code in ("0", "None") and not set(modules) & {*MODEL_CODE, *STORE}


def test_unchanged_is_told_as_the_full_path_tells_it(ingested: Collection, folder: Path) -> None:
    told = _told(ingested, folder)
    assert told is not None
    full = ingested.ingest([folder])
    assert (told.added, told.updated, told.unchanged, told.removed, told.failed) == (
        full.added, full.updated, full.unchanged, full.removed, full.failed)  # fmt: skip


def _same_size_same_second(path: Path, later_ns: int = 1) -> None:
    """Rewritten to the same size, ``later_ns`` after (the store keeps float seconds: about
    240 ns apart at today's dates, so the full path needs a millisecond to see it)."""
    st = path.stat()
    path.write_text(path.read_text().upper())
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + later_ns))


def _touched(path: Path) -> None:
    os.utime(path, ns=(OLD_NS, OLD_NS + 10**9))


def _replaced(path: Path) -> None:  # a new file by rename, with the old size and mtime
    st = path.stat()
    new = path.with_suffix(".new")
    new.write_text(path.read_text())
    os.utime(new, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(new, path)


@pytest.mark.parametrize("change", [
    lambda f: _same_size_same_second(f / "a.txt"),
    lambda f: _touched(f / "sub/c.txt"),
    lambda f: _replaced(f / "b.txt"),
    lambda f: (f / "b.txt").unlink(),
    lambda f: (f / "d.txt").write_text("A new note."),
    lambda f: (f / "sub" / IGNORE_FILE).write_text("c.txt\n"),
])  # fmt: skip
@pytest.mark.parametrize("sync", [False, True])
def test_a_change_after_the_manifest_is_noticed(ingested: Collection, folder: Path,
                                                change: object, sync: bool) -> None:  # fmt: skip
    assert _remembered(ingested, [str(folder)], sync)
    assert _told(ingested, folder, sync) is not None
    change(folder)  # type: ignore[operator]
    assert _told(ingested, folder, sync) is None
    assert _told(ingested, folder, not sync) is None  # one manifest: the last options only


def test_removed_with_sync_then_remembered(ingested: Collection, folder: Path) -> None:
    (folder / "b.txt").unlink()
    assert ingested.ingest([folder], sync=True).removed == 1
    assert _remembered(ingested, [str(folder)], sync=True)
    told = _told(ingested, folder, sync=True)
    assert told is not None and (told.unchanged, told.removed) == (2, 0)


def test_a_commit_by_another_writer_disowns_the_manifest(ingested: Collection, folder: Path,
                                                         tmp_path: Path) -> None:  # fmt: skip
    other = Collection(ingested.folder)  # another process's view: the service, a watcher
    other.store.delete([str((folder / "a.txt").resolve())])
    assert _told(ingested, folder) is None
    assert Collection(ingested.folder).ingest([folder]).added == 1  # what it would have hidden


def test_other_options_take_the_full_path(ingested: Collection, folder: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    assert unchanged.unchanged(ingested.folder, [str(folder)], False, ("*.md",)) is None
    assert unchanged.unchanged(ingested.folder, [str(folder / "sub")], False, ()) is None
    monkeypatch.setenv("SENSORIUM_OCR", "1")
    assert _told(ingested, folder) is None


def test_a_file_written_as_the_plan_ran_is_not_vouched_for(ingested: Collection,
                                                           folder: Path) -> None:  # fmt: skip
    (folder / "a.txt").write_text("Rewritten just now, within the file system's tick.")
    ingested.ingest([folder])
    (ingested.folder / unchanged.MANIFEST).unlink()
    assert not _remembered(ingested, [str(folder)])  # its mtime is too recent to trust
    assert _told(ingested, folder) is None


def test_killed_while_writing_the_manifest_leaves_the_old_one(
    ingested: Collection, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _same_size_same_second(folder / "a.txt", 10**6)
    assert ingested.ingest([folder]).updated == 1

    def killed(*_: object) -> None:
        raise KeyboardInterrupt  # as a kill between the temporary file and its rename

    monkeypatch.setattr(unchanged.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        _remembered(ingested, [str(folder)])
    assert _told(ingested, folder) is None  # the old manifest: its versions and stat are gone


def test_killed_mid_ingest_never_hides_a_change(ingested: Collection, folder: Path,
                                                tmp_path: Path) -> None:  # fmt: skip
    """SIGKILL as soon as the ingest's first commit lands, before it could write a manifest."""
    for i in range(40):
        (folder / f"more{i}.txt").write_text(f"Note {i}: the meeting room is on floor {i}.")
        os.utime(folder / f"more{i}.txt", ns=(OLD_NS, OLD_NS))
    versions = Path(ingested.folder) / "items.lance" / "_versions"
    before = len(os.listdir(versions))
    env = {**os.environ, "SENSORIUM_DB": str(ingested.folder)}
    cli = [sys.executable, "-m", "sensorium", "ingest", "--batch-size", "8", str(folder)]
    proc = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(os.listdir(versions)) == before and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert proc.poll() is None, "the ingest ended before its first commit was seen"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _told(ingested, folder) is None
    after = ingested.ingest([folder])
    assert after.added + after.unchanged == 43 and after.added > 0


def test_light_names_agree_with_the_store() -> None:
    assert unchanged.IGNORE_FILE == IGNORE_FILE
    assert unchanged.collection_folder(None) == str(default_db())
    assert unchanged.collection_folder("elsewhere") == "elsewhere"
