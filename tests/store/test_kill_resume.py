"""Kill-safety: ``sensorium ingest`` (and ``--sync``) killed with SIGKILL at random moments
and run again leaves exactly what one clean run leaves.

A small mixed folder of real media (Tux Paint captions, stamps re-encoded, real sounds, a
video built from stamps, bad files) is ingested in batches of 3, so a run makes many commits.
A killed run is stopped after a random number of its commits plus a random fraction of a
second (seeded), its whole process group at once. A killed collection must hold only whole
files a clean run writes, never a doubled row; resumed, it must equal the clean run: items by
path and moment (kind, sha256, size, mtime, span, transcript, text, vector), failures, and the
video's moments once each. The benchmark runs 20 such kills over ~2,000 files
(``benchmarks/killresume.py``).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from sensorium.eval.datasets import ASTERISK, TUXPAINT, tuxpaint_stamps
from sensorium.media.audio import load_audio

BATCH = "3"
ROW = ("id", "kind", "sha256", "size", "mtime", "start", "end", "transcript", "text")
State = tuple[dict[tuple[str, int], tuple[Any, ...]], dict[tuple[str, int], np.ndarray],
              dict[str, str]]  # fmt: skip


def _image(source: Path, out: Path, side: int) -> None:
    with Image.open(source) as im:
        flat = Image.new("RGB", im.size, (255, 255, 255))
        flat.paste(im.convert("RGBA"), mask=im.convert("RGBA").getchannel("A"))
    flat.thumbnail((side, side))
    flat.save(out)


def _wav(source: Path, out: Path, cut: float) -> None:
    """A real recording with ``cut`` of it taken off each end, as 16-bit WAV."""
    samples = load_audio(source).samples
    n = int(len(samples) * cut)
    pcm = (np.clip(samples[n : len(samples) - n], -1, 1) * 32767).astype("<i2")
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(pcm.tobytes())


@pytest.fixture()
def mixed(tmp_path: Path) -> Path:
    """24 captions, 12 stamps as JPEG, 2 real sounds, a 2-shot video, 3 bad files."""
    from sensorium.eval.videos import Shot, write_video

    if not TUXPAINT.is_dir():
        pytest.fail(f"{TUXPAINT} missing: run scripts/setup.sh (it installs the data packages)")
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    stamps = tuxpaint_stamps()[::40][:24]
    for i, s in enumerate(stamps):
        (folder / f"t{i:02d}.txt").write_text(s.caption + "\n")
    for i, s in enumerate(stamps[:12]):
        _image(s.image, folder / "sub" / f"i{i:02d}.jpg", 96 + 8 * i)
    _wav(TUXPAINT / "animals/birds/crow.ogg", folder / "sub" / "crow.wav", 0.1)
    _wav(ASTERISK / "hello-world.wav", folder / "sub" / "hello.wav", 0.0)
    birds = TUXPAINT / "animals/birds"
    shots = [Shot(TUXPAINT / "animals/mammals/elephant.png", 2.5),
             Shot(birds / "penguin.png", 2.5, birds / "penguin_desc.ogg")]  # fmt: skip
    write_video(folder / "sub" / "v.mp4", shots, fps=5)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    (folder / "empty.wav").write_bytes(b"")
    (folder / "blank.txt").write_text("  \n")
    return folder


def _state(db: Path) -> State:
    """Items by (path, moment), their vectors, failures by path; no row may be doubled."""
    import lance

    rows: dict[tuple[str, int], tuple[Any, ...]] = {}
    vecs: dict[tuple[str, int], np.ndarray] = {}
    if not (db / "failures.lance" / "_versions").is_dir():  # killed before it made the tables
        return rows, vecs, {}
    columns = ["path", "segment", *ROW, "vector"]
    table = lance.dataset(str(db / "items.lance")).to_table(columns=columns)
    vectors = table.column("vector").combine_chunks().values.to_numpy().reshape(-1, 384)
    for r, v in zip(table.drop_columns(["vector"]).to_pylist(), vectors):
        key = (r["path"], r["segment"] or 0)
        assert key not in rows, f"{key} is doubled"
        r["start"], r["end"] = round(r["start"] or 0, 3), round(r["end"] or 0, 3)
        rows[key], vecs[key] = tuple(r[c] for c in ROW), v
    ids = [row[0] for row in rows.values()]
    assert len(ids) == len(set(ids)), "an id is doubled"
    fails = lance.dataset(str(db / "failures.lance")).to_table(columns=["path", "error"])
    failures = {r["path"]: r["error"] for r in fails.to_pylist()}
    assert len(failures) == fails.num_rows, "a failure is doubled"
    return rows, vecs, failures


def _same_rows(got: State, want: State, keys: set[tuple[str, int]]) -> list[tuple[str, int]]:
    """The keys among ``keys`` whose row or vector differs between the two states."""
    return [k for k in sorted(keys) if got[0][k] != want[0][k]
            or not np.allclose(got[1][k], want[1][k], atol=1e-4)]  # fmt: skip


def _assert_equal(got: State, want: State) -> None:
    lost, extra = want[0].keys() - got[0].keys(), got[0].keys() - want[0].keys()
    assert not lost and not extra, f"lost {sorted(lost)}, extra {sorted(extra)}"
    assert not _same_rows(got, want, set(want[0]))
    assert got[2] == want[2]


def _assert_whole(got: State, clean: list[State]) -> None:
    """A killed collection: each file's rows all those one clean run wrote for it."""
    for path in {p for p, _ in got[0]}:
        mine = {k for k in got[0] if k[0] == path}
        assert any(mine == {k for k in c[0] if k[0] == path} and not _same_rows(got, c, mine)
                   for c in clean), f"{path}: rows no clean run wrote"  # fmt: skip
    for path, error in got[2].items():
        assert any(c[2].get(path) == error for c in clean), f"{path}: a failure no run recorded"


def _commits(db: Path) -> int:
    """Table versions written so far (one manifest each)."""
    folders = [db / t / "_versions" for t in ("items.lance", "failures.lance")]
    return sum(len(list(f.glob("*.manifest"))) for f in folders if f.is_dir())


def _ingest(folder: Path, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "sensorium", "ingest", str(folder), "--db", str(db),
           "--batch-size", BATCH, "--json", *extra]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1) and done.stdout.startswith("{"), done.stderr[-2000:]
    return done


def _killed(folder: Path, db: Path, commits: int, rng: random.Random, *extra: str) -> int:
    """Run an ingest and SIGKILL its process group at a random moment after ``commits`` more
    commits; returns the commits it made."""
    cmd = [sys.executable, "-m", "sensorium", "ingest", str(folder), "--db", str(db),
           "--batch-size", BATCH, "--json", *extra]  # fmt: skip
    start = _commits(db)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 300
    while proc.poll() is None and _commits(db) < start + commits and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(rng.uniform(0, 0.3))
    assert proc.poll() is None, f"the ingest ended before its kill, after {commits} commits"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return _commits(db) - start


def _change(folder: Path) -> None:
    """Between ingests: delete, rewrite, touch, add, break a good file and mend a bad one."""
    (folder / "t00.txt").unlink()
    (folder / "sub" / "i00.jpg").unlink()
    (folder / "t01.txt").write_text("A revised note about the harbour.\n")
    _image(TUXPAINT / "animals/mammals/elephant.png", folder / "sub" / "i01.jpg", 150)
    os.utime(folder / "t02.txt", (time.time(), time.time() + 100))
    (folder / "new.txt").write_text("A new note about the winter garden.\n")
    shutil.copy(folder / "sub" / "i02.jpg", folder / "sub" / "i02-copy.jpg")
    (folder / "t03.txt").write_bytes(b"")  # a good file broken
    shutil.copy(folder / "sub" / "i03.jpg", folder / "broken.png")  # a bad file mended


def test_killed_ingest_and_sync_resume_to_the_clean_result(mixed: Path, tmp_path: Path) -> None:
    rng = random.Random(17)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    _ingest(mixed, clean)
    first = _state(clean)
    moments = [k for k, row in first[0].items() if row[1] == "video"]
    assert len(moments) >= 2 and len(first[2]) == 3  # a video's moments, the bad files
    commits = _commits(clean)

    # two kills in a row during the first ingest, then a resume
    for _ in range(2):
        _killed(mixed, killed, rng.randint(1, max(1, commits // 3)), rng)
        _assert_whole(_state(killed), [first])
    _ingest(mixed, killed)
    _assert_equal(_state(killed), first)

    # a kill during --sync after the files changed, then a resume
    _change(mixed)
    shutil.copytree(clean, tmp_path / "clean2")
    _ingest(mixed, tmp_path / "clean2", "--sync")
    second = _state(tmp_path / "clean2")
    assert str(mixed / "broken.png") not in second[2] and str(mixed / "t03.txt") in second[2]
    sync_commits = _commits(tmp_path / "clean2") - commits
    _killed(mixed, killed, rng.randint(1, max(1, sync_commits // 2)), rng, "--sync")
    _assert_whole(_state(killed), [first, second])
    _ingest(mixed, killed, "--sync")
    _assert_equal(_state(killed), second)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_kill_beside_forgetting_a_mended_files_failure(tmp_path: Path, when: str) -> None:
    """A file that failed, mended, then a kill just before or just after its old failure is
    forgotten: the resumed collection holds the item and no failure, as a clean run does."""
    from sensorium.eval.datasets import TUXPAINT
    from sensorium.store.lance import LanceStore

    folder, db = tmp_path / "files", tmp_path / "db"
    folder.mkdir()
    (folder / "note.txt").write_text("a note about the harbour")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))  # corrupt
    ingest = [sys.executable, "-m", "sensorium", "ingest", str(folder), "--db", str(db)]
    subprocess.run(ingest, capture_output=True, timeout=300, check=False)
    shutil.copy(TUXPAINT / "animals/marsupials/kangaroo.png", folder / "photo.png")  # mended
    call = "" if when == "before" else "original(self, paths); "
    die = ("import os, signal, sys\n"
           "from sensorium.store.lance import LanceStore\n"
           "original = LanceStore._forget_failures\n"
           "def forget(self, paths):\n"
           f"    {call}os.kill(os.getpid(), signal.SIGKILL)\n"
           "LanceStore._forget_failures = forget\n"
           "from sensorium.cli import main\n"
           f"sys.argv = ['sensorium', 'ingest', {str(folder)!r}, '--db', {str(db)!r}]\n"
           "main()\n")  # fmt: skip
    killed = subprocess.run([sys.executable, "-c", die], capture_output=True, timeout=300)
    assert killed.returncode == -9
    subprocess.run(ingest, capture_output=True, timeout=300, check=True)  # resume
    store = LanceStore(db)
    assert store.files() == 2 and store.get(str((folder / "photo.png").resolve())) is not None
    assert store.failures() == []


def test_an_empty_meta_file_is_a_new_collection_or_a_clear_error(tmp_path: Path) -> None:
    """A kill while the schema version was written used to leave an empty file that made every
    later run fail with a traceback; now it is written by rename, and an empty one in a folder
    with no table is a new collection."""
    from sensorium.errors import SensoriumError
    from sensorium.store.lance import LanceStore

    db = tmp_path / "db"
    db.mkdir()
    (db / "sensorium.json").write_text("")
    LanceStore(db)  # no table yet: a new collection
    assert "schema_version" in (db / "sensorium.json").read_text()
    (db / "sensorium.json").write_text("{not json")
    with pytest.raises(SensoriumError, match="unreadable"):
        LanceStore(db)
