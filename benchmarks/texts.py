"""100,000 real short texts ingested as files: ingest rate as the collection grows (it should
stay flat), peak memory, fragments left, then a self-retrieval check through search.

Texts: the English dictionary words (Debian ``wamerican``, installed by ``setup.sh --bench``)
and every Tux Paint caption in each of its languages. They are ingested folder by folder
into one collection, each folder one ``ingest`` call: 1,000 files, 9,000, then nine of
10,000, so the rate is read at 1k, 10k, ..., 100k items in the collection. The rate of a
call counts everything it does: planning, decoding, encoding, commits and the store's
maintenance (compaction, new rows into the indices as segments, segments merged), which is
also timed on its own. The ingest runs in a child process, so its peak RSS is the
ingest's own (the model, the store, the batches), not this process's list of texts.
Then 200 stored texts are searched for with ``Collection.search`` (serving index): the text
itself, or a case variant of it, should come first.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import resource
import statistics
import time
from pathlib import Path
from typing import Any

NAME = "texts"
TOTAL = 100_000
CALLS = [1_000, 9_000, *[10_000] * 9]  # files per ingest call: marks at 1k, 10k, ..., 100k
MARKS = (1_000, 10_000, 100_000)  # items in the collection where the rate is compared
QUERIES = 200
WORDS = Path("/usr/share/dict/words")


def _texts() -> list[str]:
    from sensorium.eval.datasets import tuxpaint_captions

    words = WORDS.read_text(errors="replace").splitlines() if WORDS.is_file() else []
    return list(dict.fromkeys(t.strip() for t in [*words, *tuxpaint_captions()] if t.strip()))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _ingest(db: str, folders: list[str], out: str) -> None:
    """The child process: one ``ingest`` call a folder; what each cost, as JSON in ``out``.
    ``batch_s`` is the median time from one commit to the next (decode, encode, commit);
    ``files_per_cpu_s`` counts the process's CPU time (all its threads), which other work
    on a shared machine disturbs less than the wall clock; ``load`` is the machine's load
    average (1 min) when the call ended, to tell such disturbance."""
    from sensorium.collection import Collection

    coll = Collection(db)
    coll.space.text.encode(["warm up"])  # the model loads outside the timings
    maintain, spent = coll.store.maintain, [0.0]

    def timed_maintain() -> None:
        t0 = time.perf_counter()
        maintain()
        spent[0] += time.perf_counter() - t0

    coll.store.maintain = timed_maintain  # type: ignore[method-assign]
    calls = []
    for folder in folders:
        stamps: list[float] = []
        start, cpu = time.perf_counter(), _cpu_s()
        spent[0] = 0.0
        report = coll.ingest([folder], on_done=lambda _, s=stamps: s.append(time.perf_counter()))
        seconds, cpu = time.perf_counter() - start, _cpu_s() - cpu
        calls.append({"in_collection": coll.store.count(), "added": report.added,
                      "files_per_s": round(report.added / seconds, 1),
                      "files_per_cpu_s": round(report.added / cpu, 1),
                      "maintenance_s": round(spent[0], 2),
                      "batch_s": round(statistics.median(
                          b - a for a, b in itertools.pairwise(stamps)), 4),
                      "peak_rss_mb": round(_rss_mb()),
                      "load": round(os.getloadavg()[0], 1)})  # fmt: skip
        print(calls[-1], flush=True)
    Path(out).write_text(json.dumps(calls))


def _write(folder: Path, texts: list[str], start: int) -> None:
    folder.mkdir(parents=True)
    for i, t in enumerate(texts):
        (folder / f"{start + i:06d}.txt").write_text(t)


def _search(db: Path, texts: list[str]) -> dict[str, Any]:
    """Each of ``QUERIES`` stored texts searched for: is it (or a case variant) first?"""
    from sensorium.collection import Collection

    coll = Collection(db).serve()
    picks = random.Random(0).sample(range(len(texts)), QUERIES)
    right, ms, misses = 0, [], []
    for i in picks:
        t0 = time.perf_counter()
        hits = coll.search(texts[i], k=3, kind="text", syntax=False)  # texts as written
        ms.append((time.perf_counter() - t0) * 1000)
        top = (hits[0].item.text or "") if hits else ""
        if top.strip().lower() == texts[i].strip().lower():
            right += 1
        else:
            misses.append({"query": texts[i], "top": [h.item.text for h in hits]})
            print("miss", misses[-1], flush=True)
    return {"self_first": right / QUERIES, "queries": QUERIES, "misses": misses,
            "search_p50_ms": round(statistics.median(ms), 1),
            "search_p95_ms": round(sorted(ms)[int(0.95 * (QUERIES - 1))], 1)}  # fmt: skip


def run(tmp: Path) -> dict[str, Any]:
    from sensorium.collection import Collection

    texts = _texts()[:TOTAL]
    folders, start = [], 0
    for size in CALLS:
        folders.append(tmp / "texts" / f"{len(folders):02d}")
        _write(folders[-1], texts[start : start + size], start)
        start += size
    out = tmp / "calls.json"
    child = multiprocessing.get_context("spawn").Process(
        target=_ingest, args=(str(tmp / "db"), [str(f) for f in folders], str(out))
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"the ingest process failed ({child.exitcode})")
    calls = json.loads(out.read_text())
    store = Collection(tmp / "db").store
    fragments = store.fragments()
    t0 = time.perf_counter()
    store.maintain()
    compact_s = time.perf_counter() - t0
    rate = {c["in_collection"]: c["files_per_s"] for c in calls}
    cpu = {c["in_collection"]: c["files_per_cpu_s"] for c in calls}
    return {"texts": len(texts), "calls": calls,
            "rate_at": {str(m): rate[m] for m in MARKS if m in rate},
            "cpu_rate_at": {str(m): cpu[m] for m in MARKS if m in cpu},
            "ingest_peak_rss_mb": max(c["peak_rss_mb"] for c in calls),
            "fragments_after_ingest": fragments, "compaction_s": round(compact_s, 2),
            "fragments_after_compaction": store.fragments(),
            **_search(tmp / "db", texts)}  # fmt: skip


def markdown(data: dict[str, Any]) -> list[str]:
    rate, cpu = data["rate_at"], data["cpu_rate_at"]
    first, last = rate[str(MARKS[0])], rate[str(MARKS[-1])]
    lines = [
        "## 100,000 real short texts",
        "",
        f"{data['texts']:,} dictionary words ingested as text files, {len(data['calls'])} "
        f"`ingest` calls into one collection (`benchmarks/texts.py`; the ingest in a child "
        f"process). Files per second at 1k, 10k and 100k items in the collection: "
        f"{first}, {rate[str(MARKS[1])]} and {last}: at 100k **{last / first:.2f}** of the "
        f"rate at 1k; per second of the process's CPU time, which other work on a shared "
        f"machine disturbs less, {cpu[str(MARKS[0])]} and {cpu[str(MARKS[-1])]} "
        f"(**{cpu[str(MARKS[-1])] / cpu[str(MARKS[0])]:.2f}**). Each rate is a whole call's, "
        f"maintenance included (compaction, new rows into the indices, segments merged). "
        f"Peak RSS of "
        f"the ingest **{data['ingest_peak_rss_mb']} MB**; {data['fragments_after_ingest']} "
        f"fragments left after it, a final maintenance of {data['compaction_s']} s leaves "
        f"{data['fragments_after_compaction']}. Each of {data['queries']} stored texts "
        f"searched for (`Collection.search`, serving index): itself or a case variant "
        f"first in **{data['self_first']:.3f}**; p50 {data['search_p50_ms']} ms, p95 "
        f"{data['search_p95_ms']} ms end to end.",
        "",
        "| items in the collection | files/s | files/CPU-s | maintenance | median batch "
        "| peak RSS | load |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {c['in_collection']:,} | {c['files_per_s']} | {c['files_per_cpu_s']} | "
              f"{c['maintenance_s']} s | {c['batch_s'] * 1000:.0f} ms | {c['peak_rss_mb']} MB "
              f"| {c.get('load', '')} |" for c in data["calls"]]  # fmt: skip
    return [*lines, ""]
