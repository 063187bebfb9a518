"""An ingest with nothing to do, from the shell: the manifest's path against the full one.

The demo library (``scripts/samples.py``, 240 files) is ingested once; then, interleaved and
``ROUNDS`` times each: ``python -c pass`` (the interpreter's own start-up, the floor),
``sensorium ingest`` of the unchanged library (the manifest's path), the same with the
manifest removed first (the full path: LanceDB, pyarrow and the models imported, the store's
states read; it also writes the manifest again), and ``sensorium ingest`` of ``BIG`` tiny
files. A first ingest of ``BIG`` files does not fit this machine, so their manifest is written
by the same function a real one is (``unchanged.write``), against the demo collection's
tables: what is timed is the check at that size (listing, stat, JSON) from the shell.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.watch import cpu

NAME = "noop_ingest"
ROUNDS = 7
BIG = 100_000
ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "sensorium")


def _timed(cmd: list[str], env: dict[str, str], before: Any = None) -> float:
    if before is not None:
        before()
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t0
    if "unchanged" not in done.stdout and cmd[1] != "-c":
        raise RuntimeError(f"{cmd}: {done.stdout} {done.stderr}")
    return seconds


def _big(folder: Path) -> None:
    for i in range(BIG):
        sub = folder / f"{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True)
        (sub / f"{i}.txt").write_text(f"note {i}")
    old = 1_600_000_000
    for p in folder.rglob("*.txt"):
        os.utime(p, (old, old))


def _manifest(db: Path, folder: Path) -> None:
    """The manifest a no-op plan of ``folder`` would keep, on the demo collection's tables."""
    from sensorium import unchanged

    key = unchanged.fact([str(folder)], False, ())
    snap = unchanged.snapshot(db, [str(folder)])
    assert snap is not None
    report = unchanged.IngestReport(unchanged=BIG)
    assert unchanged.write(db, key, snap[0], snap[0], time.time_ns(), report)


def run(tmp: Path) -> dict[str, Any]:
    env = {**os.environ, "SENSORIUM_DB": str(tmp / "collection")}
    subprocess.run([sys.executable, str(ROOT / "scripts" / "samples.py"), str(tmp)], check=True,
                   env=env, capture_output=True)  # fmt: skip
    library = str(tmp / "library")
    t0 = time.perf_counter()
    subprocess.run([CLI, "ingest", library], env=env, capture_output=True)
    first = time.perf_counter() - t0
    files = json.loads((tmp / "collection" / "unchanged.json").read_text())["files"]
    big = tmp / "big"
    t0 = time.perf_counter()
    _big(big)
    made = time.perf_counter() - t0
    big_db = tmp / "big_collection"  # the demo's tables, a manifest of the big folder
    shutil.copytree(tmp / "collection", big_db)
    _manifest(big_db, big)
    big_env = {**env, "SENSORIUM_DB": str(big_db)}
    manifest = tmp / "collection" / "unchanged.json"
    ways: dict[str, list[float]] = {"python -c pass": [], "manifest, 240 files": [],
                                    "full path, 240 files": [], f"manifest, {BIG} files": []}  # fmt: skip
    for _ in range(ROUNDS):
        ways["python -c pass"].append(_timed([sys.executable, "-c", "pass"], env))
        ways["manifest, 240 files"].append(_timed([CLI, "ingest", library], env))
        ways["full path, 240 files"].append(
            _timed([CLI, "ingest", library], env, lambda: manifest.unlink(missing_ok=True))
        )
        ways[f"manifest, {BIG} files"].append(_timed([CLI, "ingest", str(big)], big_env))
    rows = {way: {"median_s": round(statistics.median(t), 3), "min_s": round(min(t), 3),
                  "max_s": round(max(t), 3)} for way, t in ways.items()}  # fmt: skip
    return {"files": len(files), "big": BIG, "rounds": ROUNDS, "first_ingest_s": round(first, 1),
            "big_made_s": round(made, 1), "lscpu": cpu(), "ways": rows}  # fmt: skip


def markdown(data: dict[str, Any]) -> list[str]:
    c = data["lscpu"]
    w = data["ways"]
    small, full = w["manifest, 240 files"]["median_s"], w["full path, 240 files"]["median_s"]
    big = w[f"manifest, {data['big']} files"]["median_s"]
    lines = [
        "## An ingest with nothing to do",
        "",
        f"`sensorium ingest` of an unchanged folder, wall time from the shell, median of "
        f"{data['rounds']} runs of each way interleaved (`benchmarks/noop_ingest.py`, "
        "`python -m benchmarks.run --only noop_ingest`). The demo library (`scripts/samples.py`: "
        f"{data['files']} files, one of them broken) ingested once ({data['first_ingest_s']} s); "
        "`manifest`: the collection's `unchanged.json` read, the files listed and stat'ed, no "
        "store and no model imported (`sensorium/unchanged.py`); `full path`: the manifest "
        "removed first, so the store is opened and its states read, as every run did before "
        "(it writes the manifest again, a second plan); `python -c pass`: the interpreter's "
        f"start-up, the floor. At {data['big']:,} files (tiny text files) a first ingest does "
        "not fit this machine: their manifest is written as an ingest writes it, on the demo "
        "collection's tables, and what is timed is the check at that size from the shell.",
        "",
        f"CPU (lscpu): {c.get('model_name', '?')}, family {c.get('family', '?')}, model "
        f"{c.get('model', '?')}; 2 cores shared with other work.",
        "",
        "| way | median | fastest | slowest |",
        "|---|---|---|---|",
    ]
    lines += [f"| {way} | {r['median_s']:.2f} s | {r['min_s']:.2f} s | {r['max_s']:.2f} s |"
              for way, r in w.items()]  # fmt: skip
    lines += ["", f"At 240 files the manifest's path took {small:.2f} s ({full / small:.1f}x "
              f"faster than the full path's {full:.2f} s; goal 0.5 s); at {data['big']:,} "
              f"files {big:.2f} s (goal 3 s).", ""]  # fmt: skip
    return lines
