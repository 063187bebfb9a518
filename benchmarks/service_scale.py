"""``/api/search`` over HTTP on a 100,000-item collection: start-up, and one client's text
queries with the page's k (20), p50 and p95, against the same searches in-process.

The collection is 100,000 real short texts (dictionary words and Tux Paint captions, as in
``benchmarks/texts.py``) ingested as files. The server is ``sensorium serve`` started as a
process; its start-up includes loading the models and building the serving index.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

NAME = "service_scale"
TOTAL = 100_000
K = 20  # what the page asks for
QUERIES = ["a cat", "a bird singing", "someone says hello", "a rocket", "coffee", "an animal",
           "music", "a red car", "water", "a dog barking", "the sea", "a train"]  # fmt: skip
ROUNDS = 10  # each query this many times


def _percentiles(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1)}  # fmt: skip


def _ingest(tmp: Path) -> tuple[Path, int, float]:
    from benchmarks.texts import _texts
    from sensorium.collection import Collection

    texts = _texts()[:TOTAL]
    folder = tmp / "texts"
    for start in range(0, len(texts), 10_000):
        sub = folder / f"{start // 10_000:02d}"
        sub.mkdir(parents=True)
        for i, t in enumerate(texts[start : start + 10_000]):
            (sub / f"{start + i:06d}.txt").write_text(t)
    t0 = time.perf_counter()
    report = Collection(tmp / "db").ingest([folder])
    return tmp / "db", report.added, time.perf_counter() - t0


def _http(db: Path) -> dict[str, Any]:
    import httpx

    from benchmarks.service import _port

    port = _port()
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "sensorium", "serve", "--db", str(db),
                               "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/search"
    try:
        while True:
            try:
                if httpx.get(url, params={"q": "a cat"}, timeout=120).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            if time.perf_counter() - t0 > 600:
                raise RuntimeError("the service did not answer within 600 s")
        startup = time.perf_counter() - t0
        ms, seconds = [], []
        with httpx.Client(timeout=60) as c:
            for _ in range(ROUNDS):
                for q in QUERIES:
                    s = time.perf_counter()
                    r = c.get(url, params={"q": q, "k": K})
                    ms.append((time.perf_counter() - s) * 1000)
                    r.raise_for_status()
                    seconds.append(r.json()["seconds"] * 1000)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {"startup_s": round(startup, 1), "http": _percentiles(ms),
            "server_side": _percentiles(seconds)}  # fmt: skip


def _in_process(db: Path) -> dict[str, float]:
    from sensorium.collection import Collection

    coll = Collection(db).serve()
    coll.search("warm", k=K)
    ms = []
    for _ in range(ROUNDS):
        for q in QUERIES:
            s = time.perf_counter()
            coll.search(q, k=K)
            ms.append((time.perf_counter() - s) * 1000)
    return _percentiles(ms)


def run(tmp: Path) -> dict[str, Any]:
    db, items, ingest_s = _ingest(tmp)
    http = _http(db)
    return {"items": items, "k": K, "queries": ROUNDS * len(QUERIES), "ingest_s": round(ingest_s),
            **http, "in_process": _in_process(db)}  # fmt: skip


def markdown(data: dict[str, Any]) -> list[str]:
    http, server, local = data["http"], data["server_side"], data["in_process"]
    return [
        "## The service at 100,000 items",
        "",
        f"`sensorium serve` over {data['items']:,} real short texts (dictionary words, Tux Paint "
        f"captions) ingested as files; `python -m benchmarks.run --only service_scale` "
        f"({data['machine']['cpu']}, {data['machine']['cores']} cores). Start-up to the first "
        f"answered search (models, serving index): **{data['startup_s']} s**. One client, "
        f"{data['queries']} text queries with the page's k ({data['k']}):",
        "",
        "| path | p50 | p95 |",
        "|---|---|---|",
        f"| `GET /api/search` over HTTP | **{http['p50_ms']} ms** | {http['p95_ms']} ms |",
        f"| the same, time inside the server | {server['p50_ms']} ms | {server['p95_ms']} ms |",
        f"| `Collection.search` in-process (serving index) | {local['p50_ms']} ms "
        f"| {local['p95_ms']} ms |",
        "",
    ]
