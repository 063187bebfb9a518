"""100,000 real short texts ingested as files: ingest rate as the collection grows (it should
stay flat), peak memory, fragments left, then a self-retrieval check through search.

Texts: the English dictionary words (Debian ``wamerican``, installed by ``setup.sh --bench``)
and every Tux Paint caption in each of its languages. They are ingested ten folders of
10,000 files at a time into one collection; each folder's rate is its own ``ingest`` call.
Then 200 stored texts are searched for with ``Collection.search`` (serving index): the text
itself, or a case variant of it, should come first.
"""

from __future__ import annotations

import random
import resource
import statistics
import time
from pathlib import Path
from typing import Any

NAME = "texts"
TOTAL = 100_000
CHUNK = 10_000
QUERIES = 200
WORDS = Path("/usr/share/dict/words")


def _texts() -> list[str]:
    from benchmarks.service import _captions

    words = WORDS.read_text(errors="replace").splitlines() if WORDS.is_file() else []
    return list(dict.fromkeys(t.strip() for t in [*words, *_captions()] if t.strip()))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(tmp: Path) -> dict[str, Any]:
    from sensorium.collection import Collection

    texts = _texts()[:TOTAL]
    coll = Collection(tmp / "db")
    rates = []
    for start in range(0, len(texts), CHUNK):
        folder = tmp / "texts" / f"{start // CHUNK:02d}"
        folder.mkdir(parents=True)
        for i, t in enumerate(texts[start : start + CHUNK]):
            (folder / f"{start + i:06d}.txt").write_text(t)
        t0 = time.perf_counter()
        report = coll.ingest([folder])
        seconds = time.perf_counter() - t0
        rates.append({"in_collection": start + CHUNK, "added": report.added,
                      "files_per_s": round(report.added / seconds, 1),
                      "peak_rss_mb": round(_rss_mb())})  # fmt: skip
        print(rates[-1], flush=True)
    fragments = len(coll.store.items.to_lance().get_fragments())
    t0 = time.perf_counter()
    coll.store.items.optimize()
    compact_s = time.perf_counter() - t0
    coll.serve()
    rng = random.Random(0)
    picks = rng.sample(range(len(texts)), QUERIES)
    right, ms = 0, []
    for i in picks:
        t0 = time.perf_counter()
        hits = coll.search(texts[i], k=1, kind="text")
        ms.append((time.perf_counter() - t0) * 1000)
        top = (hits[0].item.text or "") if hits else ""
        right += top.strip().lower() == texts[i].strip().lower()
    return {"texts": len(texts), "rates": rates, "fragments_before_compaction": fragments,
            "compaction_s": round(compact_s, 1), "self_first": right / QUERIES,
            "queries": QUERIES, "search_p50_ms": round(statistics.median(ms), 1),
            "search_p95_ms": round(sorted(ms)[int(0.95 * (QUERIES - 1))], 1)}  # fmt: skip


def markdown(data: dict[str, Any]) -> list[str]:
    first, last = data["rates"][0], data["rates"][-1]
    lines = [
        "## 100,000 real short texts",
        "",
        f"{data['texts']:,} dictionary words and Tux Paint captions ingested as files, "
        f"{len(data['rates'])} `ingest` calls of 10,000 into one collection (`benchmarks/texts.py`). "
        f"Rate at {last['in_collection']:,} items against {first['in_collection']:,}: "
        f"**{last['files_per_s'] / first['files_per_s']:.2f}** ({last['files_per_s']} against "
        f"{first['files_per_s']} files/s); peak RSS {last['peak_rss_mb']} MB; "
        f"{data['fragments_before_compaction']} fragments before a final compaction of "
        f"{data['compaction_s']} s. Each of {data['queries']} stored texts searched for "
        f"(`Collection.search`, serving index): itself or a case variant first in "
        f"**{data['self_first']:.3f}**; p50 {data['search_p50_ms']} ms, p95 "
        f"{data['search_p95_ms']} ms end to end.",
        "",
        "| items in the collection | files/s | peak RSS |",
        "|---|---|---|",
    ]
    lines += [f"| {r['in_collection']:,} | {r['files_per_s']} | {r['peak_rss_mb']} MB |"
              for r in data["rates"]]  # fmt: skip
    return [*lines, ""]
