"""Kill-safety at scale: ``sensorium ingest`` killed with SIGKILL at random moments, then run
again, must leave what one clean run leaves: the same items (path, moment, kind, content hash,
size, mtime, span, transcript, text, vector), the same recorded failures, every video's moments
once, no doubled row.

About 2,000 mixed files are made from real media (DATA.md): Tux Paint captions in their ~100
languages as text files, Tux Paint stamps re-encoded at random sizes (JPEG and PNG, so each
copy hashes differently), Tux Paint sound effects, spoken captions and Asterisk prompts
trimmed at random, two short videos built from stamps and their spoken captions, and bad
files of every kind. Then, between the first ingest and a ``--sync`` ingest, files are
deleted, rewritten, re-encoded, touched, added, broken and mended (a video re-cut among them).

Each kill is a trial. A chain of runs ingests the files into one collection, each run killed
(its whole process group) at a moment drawn uniformly (seeded) over the time that run takes
once it has opened the collection: the clean run's time for the first, then the time the
last resume took from the same state. After each kill the collection is checked as it lies
(no doubled row; each file's rows and failure exactly what a clean run writes, before or
after the change), then a copy is resumed to the end (the same command) and compared with
the clean run; the chain's last kill is resumed in place. Kills grow denser towards the end
of an ingest (each falls in what the last one left), where commits, deletions and indexing
happen; a full trial from every moment of the ingest would cost half a clean run per kill.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.duplicates import _write_wav
from sensorium.eval.datasets import tuxpaint_captions

NAME = "killresume"
SEED = 17
# Whisper transcribes most sound effects (~1 s each on 2 busy cores): sounds are kept few.
TEXTS, IMAGES, SOUNDS, SPEECH, VIDEOS = 1400, 600, 20, 4, 2
INGEST_KILLS, SYNC_KILLS = 12, 8
COS_FLOOR = 0.9999  # a resumed item's vector against the clean one (batches differ in a resume)
TUXPAINT = Path("/usr/share/tuxpaint/stamps")
ASTERISK = Path("/usr/share/asterisk/sounds/en")
# Bytes that are not what their names say: each must be one recorded failure, in every run.
BAD = {
    "cut.png": b"\x89PNG\r\n\x1a\n" + bytes(40),
    "noise.jpg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4,
    "empty.wav": b"",
    "header.wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "blank.txt": b"  \n\n ",
    "binary.txt": bytes(range(256)) * 8,
    "stub.mp4": b"\x00\x00\x00\x18ftypmp42" + bytes(64),
    "rand.ogg": b"OggS" + bytes(range(200)),
}


# -- the files: real media, varied --------------------------------------------------------


def _trimmed(source: Path, rng: random.Random) -> np.ndarray:
    """A real recording with a random piece cut from its start and end, its gain varied."""
    from sensorium.media.audio import load_audio

    samples = load_audio(source).samples
    n = len(samples)
    start = rng.randrange(0, max(1, n // 5))
    end = n - rng.randrange(0, max(1, n // 5))
    return samples[start : max(end, start + 1600)] * rng.uniform(0.5, 1.0)


def _image(stamp: Path, out: Path, rng: random.Random) -> None:
    """A stamp re-encoded at a random size, as JPEG (on white) or PNG."""
    from PIL import Image

    with Image.open(stamp) as source:
        im = source.convert("RGBA")
    side = rng.randrange(64, 320)
    im.thumbnail((side, side))
    if out.suffix == ".jpg":
        flat = Image.new("RGB", im.size, (255, 255, 255))
        flat.paste(im, mask=im.getchannel("A"))
        flat.save(out, quality=rng.randrange(60, 95))
    else:
        im.save(out)


@dataclass
class Mix:
    """How many files of each kind to make."""

    texts: int = TEXTS
    images: int = IMAGES
    sounds: int = SOUNDS  # Tux Paint sound effects, trimmed
    speech: int = SPEECH  # spoken captions and Asterisk prompts, trimmed
    videos: int = VIDEOS
    bad: int = len(BAD)
    counts: dict[str, int] = field(default_factory=dict)


def make_files(folder: Path, mix: Mix, seed: int = SEED) -> dict[str, int]:
    """Write the mixed set under ``folder`` (in sub-folders by kind); returns counts."""
    from sensorium.eval.videos import Shot, write_video

    rng = random.Random(seed)
    for sub in ("text", "image", "sound", "video", "bad"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    captions = tuxpaint_captions()
    for i, text in enumerate(rng.sample(captions, min(mix.texts, len(captions)))):
        (folder / "text" / f"t{i:05d}.txt").write_text(text + "\n")
    stamps = sorted(TUXPAINT.rglob("*.png"))
    for i in range(mix.images):
        _image(stamps[i % len(stamps)], folder / "image" / f"i{i:05d}.{rng.choice(['jpg', 'png'])}",
               rng)  # fmt: skip
    effects = sorted(p for p in TUXPAINT.rglob("*.ogg") if "_desc" not in p.name)
    for i, src in enumerate(rng.sample(effects, min(mix.sounds, len(effects)))):
        _write_wav(folder / "sound" / f"s{i:05d}.wav", _trimmed(src, rng))
    spoken = [*sorted(TUXPAINT.rglob("*_desc.ogg")), *sorted(ASTERISK.glob("*.wav"))]
    for i, src in enumerate(rng.sample(spoken, min(mix.speech, len(spoken)))):
        _write_wav(folder / "sound" / f"speech{i:04d}.wav", _trimmed(src, rng))
    said = [p for p in sorted(TUXPAINT.rglob("*_desc.ogg")) if p.with_name(
        p.name.replace("_desc.ogg", ".png")).is_file()]  # fmt: skip
    for i in range(mix.videos):
        picks = rng.sample(said, 2)
        shots = [Shot(p.with_name(p.name.replace("_desc.ogg", ".png")), rng.uniform(2.5, 4.0), p)
                 for p in picks]  # fmt: skip
        write_video(folder / "video" / f"v{i:02d}.mp4", shots, fps=5, seed=i)
    for name, data in list(BAD.items())[: mix.bad]:
        (folder / "bad" / name).write_bytes(data)
    return {sub: sum(1 for _ in (folder / sub).iterdir()) for sub in
            ("text", "image", "sound", "video", "bad")}  # fmt: skip


def change_files(folder: Path, seed: int = SEED) -> dict[str, int]:
    """Between the first ingest and the ``--sync`` one: delete, rewrite, re-encode, touch, add,
    break and mend files (a video among them); returns what was done, by kind of change."""
    from sensorium.eval.videos import Shot, write_video

    rng = random.Random(seed + 1)
    texts, images = sorted((folder / "text").iterdir()), sorted((folder / "image").iterdir())
    sounds, videos = sorted((folder / "sound").iterdir()), sorted((folder / "video").iterdir())
    captions = tuxpaint_captions()
    stamps = sorted(TUXPAINT.rglob("*.png"))
    done = {"deleted": 0, "rewritten": 0, "touched": 0, "added": 0, "broken": 0, "mended": 0}
    picks = rng.sample(texts, len(texts) // 10) + rng.sample(images, len(images) // 10)
    gone, changed, touched = picks[::3], picks[1::3], picks[2::3]
    for p in [*gone, sounds[0], videos[0]]:
        p.unlink()
        done["deleted"] += 1
    for p in changed:
        if p.suffix == ".txt":
            p.write_text(rng.choice(captions) + " (revised)\n")
        else:
            _image(rng.choice(stamps), p, rng)
        done["rewritten"] += 1
    for p in touched:
        os.utime(p, (time.time(), time.time() + rng.uniform(10, 1000)))
        done["touched"] += 1
    new = len(texts) // 10
    for i, text in enumerate(rng.sample(captions, new)):
        (folder / "text" / f"new{i:05d}.txt").write_text(text + "\n")
    for i in range(len(images) // 10):
        _image(rng.choice(stamps), folder / "image" / f"new{i:05d}.jpg", rng)
    done["added"] += new + len(images) // 10
    if len(videos) > 1:  # a video cut again: its moments are all replaced
        said = sorted(TUXPAINT.rglob("*_desc.ogg"))[:2]
        shots = [Shot(p.with_name(p.name.replace("_desc.ogg", ".png")), 3.0, p) for p in said]
        write_video(videos[1], shots, fps=5, seed=99)
        done["rewritten"] += 1
    good = [texts[-1], images[-1], sounds[-1]]
    for p, data in zip(good, (b"", b"\x89PNG\r\n\x1a\n", b"RIFF")):
        p.write_bytes(data)
        done["broken"] += 1
    bad = folder / "bad"
    mend = {"cut.png": images[-2], "blank.txt": texts[-2], "empty.wav": sounds[-2]}
    for name, source in mend.items():
        if (bad / name).exists() and source.exists():
            shutil.copy(source, bad / name)
            done["mended"] += 1
    return done


# -- the collection as it lies on disk ---------------------------------------------------

ROW = ("id", "kind", "sha256", "size", "mtime", "start", "end", "transcript", "text")


@dataclass
class State:
    """What a collection holds, read straight from its tables (nothing is opened for write)."""

    rows: dict[tuple[str, int], tuple[Any, ...]] = field(default_factory=dict)  # (path, moment)
    vectors: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)  # (384,) each
    failures: dict[str, str] = field(default_factory=dict)  # path -> error
    doubled: list[str] = field(default_factory=list)  # ids or (path, moment) seen twice
    unreadable: str = ""  # why a table could not be read

    def paths(self) -> dict[str, set[tuple[Any, ...]]]:
        out: dict[str, set[tuple[Any, ...]]] = {}
        for (path, seg), row in self.rows.items():
            out.setdefault(path, set()).add((seg, *row))
        return out


def read_state(db: Path) -> State:
    import lance

    state = State()
    try:
        if (db / "items.lance").exists():
            columns = ["path", "segment", *ROW, "vector"]
            table = lance.dataset(str(db / "items.lance")).to_table(columns=columns)
            ids: set[str] = set()
            vectors = table.column("vector").combine_chunks().values.to_numpy()
            for i, r in enumerate(table.drop_columns(["vector"]).to_pylist()):
                key = (r["path"], r["segment"] or 0)
                if key in state.rows or r["id"] in ids:
                    state.doubled.append(f"{key[0]}#{key[1]}")
                ids.add(r["id"])
                r["start"], r["end"] = round(r["start"] or 0, 3), round(r["end"] or 0, 3)
                state.rows[key] = tuple(r[c] for c in ROW)
                state.vectors[key] = vectors[i * 384 : (i + 1) * 384]
        if (db / "failures.lance").exists():
            for r in lance.dataset(str(db / "failures.lance")).to_table().to_pylist():
                if r["path"] in state.failures:
                    state.doubled.append(f"failure {r['path']}")
                state.failures[r["path"]] = r["error"]
    except (OSError, ValueError) as e:  # pylance raises OSError for a table it cannot open
        state.unreadable = str(e)[:200]
    return state


def _same_row(a: State, b: State, key: tuple[str, int]) -> bool:
    if a.rows[key] != b.rows[key]:
        return False
    va, vb = a.vectors[key], b.vectors[key]
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb) + 1e-12)) >= COS_FLOOR


def differences(got: State, want: State) -> list[str]:
    """How ``got`` differs from a clean run's ``want``: empty when equal."""
    out = [f"unreadable: {got.unreadable}"] if got.unreadable else []
    out += [f"doubled {d}" for d in got.doubled]
    out += [f"lost {p}#{s}" for p, s in sorted(want.rows.keys() - got.rows.keys())]
    out += [f"extra {p}#{s}" for p, s in sorted(got.rows.keys() - want.rows.keys())]
    out += [f"differs {p}#{s}" for p, s in sorted(got.rows.keys() & want.rows.keys())
            if not _same_row(got, want, (p, s))]  # fmt: skip
    for path in sorted(got.failures.keys() | want.failures.keys()):
        if got.failures.get(path) != want.failures.get(path):
            out.append(f"failure {path}: {got.failures.get(path)!r}, clean "
                       f"{want.failures.get(path)!r}")  # fmt: skip
    return out


def inconsistencies(got: State, clean: list[State]) -> list[str]:
    """A killed collection as it lies: no doubled row, and each file's rows (all its moments)
    and failure exactly what one of the clean runs wrote for it."""
    out = [f"unreadable: {got.unreadable}"] if got.unreadable else []
    out += [f"doubled {d}" for d in got.doubled]
    wants = [c.paths() for c in clean]
    for path, rows in got.paths().items():
        if not any(_whole(got, c, w, path, rows) for c, w in zip(clean, wants)):
            out.append(f"foreign or partial rows of {path}")
    for path, error in got.failures.items():
        if all(c.failures.get(path) != error for c in clean):
            out.append(f"foreign failure {path}: {error!r}")
    return out


def _whole(got: State, clean: State, want: dict[str, set[tuple[Any, ...]]], path: str,
           rows: set[tuple[Any, ...]]) -> bool:  # fmt: skip
    return want.get(path) == rows and all(_same_row(got, clean, (path, r[0])) for r in rows)


def progress(got: State, start: State, clean: State) -> float:
    """The share of the work done: of the files that differed from the clean run when the
    chain began, those that match it now (rows and failure; vectors not compared)."""
    g, s, c = got.paths(), start.paths(), clean.paths()

    def done(state: State, rows: dict[str, set[tuple[Any, ...]]], path: str) -> bool:
        return rows.get(path) == c.get(path) and state.failures.get(path) == clean.failures.get(
            path)  # fmt: skip

    todo = [p for p in {*c, *s, *clean.failures, *start.failures} if not done(start, s, p)]
    return sum(done(got, g, p) for p in todo) / max(1, len(todo))


# -- runs: clean, killed, resumed -----------------------------------------------------------


@dataclass
class Run:
    killed: bool
    seconds: float
    rc: int  # the exit status (-9: killed)
    report: dict[str, Any] | None  # the --json summary; None when the run died or crashed
    stderr: str


def ingest(folder: Path, db: Path, sync: bool, kill_after: float | None = None) -> Run:
    """``sensorium ingest`` in its own process group, SIGKILLed (the whole group) after
    ``kill_after`` seconds unless it ended first."""
    cmd = [sys.executable, "-m", "sensorium", "ingest", str(folder), "--db", str(db), "--json",
           *(["--sync"] if sync else [])]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    killed = False
    try:
        out, err = proc.communicate(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        killed = True
    report = None
    if not killed and proc.returncode in (0, 1) and out.strip():
        with contextlib.suppress(ValueError):
            report = json.loads(out.strip().splitlines()[-1])
    return Run(killed, time.perf_counter() - t0, proc.returncode, report, err[-2000:])


# -- chains of killed runs -----------------------------------------------------------------


@dataclass
class Scenario:
    name: str  # "ingest": the first ingest of the files; "sync": the --sync after the changes
    sync: bool
    kills: int
    start: Path | None  # each chain starts from a copy of this collection (None: empty)
    clean: State  # what one clean run leaves
    failed: set[str]  # the paths the clean run's report names as failed
    allowed: list[State]  # whose rows a killed collection may hold
    seconds: float  # the clean run
    start_up: float  # a run's imports, before it opens the collection (an empty folder's run)

    def delay(self, window: float, rng: random.Random) -> float:
        """A random moment of a run that would take ``window`` seconds, once it has opened
        the collection (a kill during the imports before is safe by construction)."""
        return rng.uniform(min(self.start_up, window / 2), window)


def _phase(before: State, after: State, done: float) -> str:
    """Where the kill landed: before the run's first commit (planning, loading models,
    encoding a batch), between its commits, or once every file was done (deleting the gone
    ones, indexing, compacting)."""
    if done >= 1:
        return "housekeeping"
    if after.rows.keys() == before.rows.keys() and after.failures == before.failures and all(
            after.rows[k] == before.rows[k] for k in after.rows):  # fmt: skip
        return "before its first commit"
    return "between commits"


def _trial(sc: Scenario, folder: Path, db: Path, fork: Path | None, kill: Run,
           before: State, start: State) -> dict[str, Any]:  # fmt: skip
    """A killed collection checked as it lies, then resumed (in ``fork``, a copy, or in
    place) and compared with the clean run."""
    after = read_state(db)
    done = progress(after, start, sc.clean)
    target = db
    if fork is not None:
        shutil.rmtree(fork, ignore_errors=True)
        shutil.copytree(db, fork)
        target = fork
    resumed = ingest(folder, target, sc.sync)
    diffs = differences(read_state(target), sc.clean)
    if resumed.report is None:
        diffs.insert(0, f"the resume failed (exit {resumed.rc}): {resumed.stderr[-300:]}")
    elif {f["path"] for f in resumed.report["failed"]} != sc.failed:
        diffs.append("the resume's report names other failures than the clean run's")
    if diffs:  # kept for a post-mortem, beside the scratch folder's other collections
        shutil.copytree(target, db.parent / f"unequal-{sc.name}-{time.time_ns()}")
    if fork is not None:
        shutil.rmtree(fork)
    issues = inconsistencies(after, sc.allowed)
    return {"scenario": sc.name, "killed_at_s": round(kill.seconds, 2),
            "phase": _phase(before, after, done), "done_at_kill": round(done, 3),
            "killed_consistent": not issues, "killed_issues": issues[:5],
            "resume_s": round(resumed.seconds, 1), "equal": not diffs,
            "differences": diffs[:10], "n_differences": len(diffs)}  # fmt: skip


def chain(sc: Scenario, folder: Path, tmp: Path, rng: random.Random) -> list[dict[str, Any]]:
    """``sc.kills`` trials: a chain of runs, each killed at a random moment; after each kill a
    copy is resumed to the end and compared (the last kill is resumed in place). A run that
    ends before its kill is run again from the same state."""
    db, retry = tmp / f"{sc.name}-chain", tmp / "retry"
    if sc.start is not None:
        shutil.copytree(sc.start, db)
    db.mkdir(exist_ok=True)
    start = read_state(db)
    trials: list[dict[str, Any]] = []
    window = sc.seconds  # how long the next run takes: the clean run's, then the last resume's
    while len(trials) < sc.kills:
        before = read_state(db)
        shutil.rmtree(retry, ignore_errors=True)
        shutil.copytree(db, retry)
        kill = ingest(folder, db, sc.sync, kill_after=sc.delay(window, rng))
        if not kill.killed:  # it ran faster than the last resume: again, from the same state
            print(f"{sc.name}: the run ended before its kill; again", flush=True)
            shutil.rmtree(db)
            shutil.copytree(retry, db)
            window = kill.seconds
            continue
        last = len(trials) == sc.kills - 1
        trial = _trial(sc, folder, db, None if last else tmp / "fork", kill, before, start)
        trial["window_s"] = round(window, 1)
        window = trial["resume_s"]  # the fork resumed from the state the chain goes on from
        trials.append(trial)
        print({k: trial[k] for k in ("scenario", "killed_at_s", "phase", "done_at_kill",
                                     "killed_consistent", "equal", "resume_s")},
              flush=True)  # fmt: skip
    shutil.rmtree(db)
    return trials


def _clean(folder: Path, db: Path, sync: bool) -> Run:
    run = ingest(folder, db, sync)
    if run.report is None:
        raise RuntimeError(f"the clean ingest failed: {run.stderr}")
    return run


def _summary(state: State) -> dict[str, int]:
    return {"files": len(state.paths()), "rows": len(state.rows),
            "video_moments": sum(1 for r in state.rows.values() if r[1] == "video"),
            "failures": len(state.failures)}  # fmt: skip


def run(tmp: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    rng = random.Random(SEED)
    folder = tmp / "files"
    made = make_files(folder, Mix())
    (tmp / "empty").mkdir()
    start_up = _clean(tmp / "empty", tmp / "empty-db", False).seconds
    first = _clean(folder, tmp / "clean1", False)
    v1 = read_state(tmp / "clean1")
    failed1 = {f["path"] for f in first.report["failed"]} if first.report else set()
    trials = chain(Scenario("ingest", False, INGEST_KILLS, None, v1, failed1, [v1],
                            first.seconds, start_up), folder, tmp, rng)  # fmt: skip
    changes = change_files(folder)
    shutil.copytree(tmp / "clean1", tmp / "clean2")
    second = _clean(folder, tmp / "clean2", True)
    v2 = read_state(tmp / "clean2")
    failed2 = {f["path"] for f in second.report["failed"]} if second.report else set()
    trials += chain(Scenario("sync", True, SYNC_KILLS, tmp / "clean1", v2, failed2, [v1, v2],
                             second.seconds, start_up), folder, tmp, rng)  # fmt: skip
    phases: dict[str, int] = {}
    for t in trials:
        phases[t["phase"]] = phases.get(t["phase"], 0) + 1
    return {
        "files": made, "files_total": sum(made.values()), "changes": changes,
        "clean": {"ingest": _summary(v1), "sync": _summary(v2)},
        "clean_s": {"ingest": round(first.seconds, 1), "sync": round(second.seconds, 1),
                    "start_up": round(start_up, 1)},
        "kills": len(trials), "equal": sum(t["equal"] for t in trials),
        "killed_consistent": sum(t["killed_consistent"] for t in trials),
        "phases": phases, "trials": trials, "seconds": round(time.perf_counter() - t0),
    }  # fmt: skip


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {name}" for name, n in counts.items())


def markdown(data: dict[str, Any]) -> list[str]:
    c1, s = data["clean"]["ingest"], data["clean_s"]
    phases = ", ".join(f"{n} {name}" for name, n in data["phases"].items())
    lines = [
        "## Kill-safety: ingest killed with SIGKILL and resumed",
        "",
        f"{data['files_total']:,} mixed files made from real media ({_counts(data['files'])}), "
        f"ingested ({c1['files']:,} files stored, {c1['video_moments']} video moments, "
        f"{c1['failures']} failures; {s['ingest']} s clean), then changed "
        f"({_counts(data['changes'])}) and ingested with `--sync` ({s['sync']} s clean). "
        f"{data['kills']} runs killed with SIGKILL (the whole "
        f"process group) at random moments, each resumed (`benchmarks/killresume.py`): "
        f"**{data['equal']}/{data['kills']}** resumed collections equal to the clean run "
        f"(items by path and moment with kind, sha256, size, mtime, span, transcript, text and "
        f"vector; failures; no doubled row), and {data['killed_consistent']}/{data['kills']} "
        f"killed collections consistent as they lay (only whole files a clean run writes). "
        f"Where the kills landed: {phases}. {data['seconds']} s in all on "
        f"{data.get('machine', {}).get('cores', '?')} shared cores.",
        "",
        "| run | killed after | of a window of | work done | killed state | resumed in | equal |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in data["trials"]:
        lines.append(f"| {t['scenario']} | {t['killed_at_s']} s | {t['window_s']} s | "
                     f"{t['done_at_kill']:.0%} ({t['phase']}) | "
                     f"{'consistent' if t['killed_consistent'] else 'INCONSISTENT'} | "
                     f"{t['resume_s']} s | {'yes' if t['equal'] else 'NO'} |")  # fmt: skip
    return [*lines, ""]
