"""The service under load: start-up to the first answered search, one client alone, then 32
concurrent clients for a bounded time on a real collection of 100,000 files (issue 26.3):
text searches repeated as people repeat them (a page reloaded, the next page), text searches
never asked before (every request a new caption: nothing kept helps), image uploads as
queries, text searches while an ingest job writes, and ``/api/health`` under the same load,
the ceiling of HTTP on this machine in the same run (latency p50/p95, requests/s, errors).

    python -m benchmarks.run --only service

``SERVICE_BASELINE`` naming another checkout's ``src`` folder (the code before a change) also
serves the same collection with that code afterwards, and puts it under the load of new texts
for the same time: the peer to compare against in the same run on a shared machine. The
server's CPU time per request (user and system, from ``/proc``) is counted beside the wall
clock, which other work on a shared machine disturbs more.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAME = "service"
CLIENTS = 32
SECONDS = 30.0  # of each load
QUERIES = ["a cat", "a bird singing", "someone says hello", "a rocket", "coffee", "an animal",
           "a person", "a penguin", "music", "a kangaroo"]  # fmt: skip
TEXTS = 100_000 - 56  # real short texts ingested as files, beside 56 photos and sounds
FRESH = 20_000  # captions never ingested nor asked before: one a request, no answer kept
BASELINE = os.environ.get("SERVICE_BASELINE")  # another checkout's src/, served afterwards


def _texts(folder: Path, texts: list[str]) -> Path:
    for start in range(0, len(texts), 10_000):  # 10,000 files a folder
        sub = folder / f"{start // 10_000:02d}"
        sub.mkdir(parents=True)
        for i, t in enumerate(texts[start : start + 10_000]):
            (sub / f"{start + i:06d}.txt").write_text(t)
    return folder


def _collection(folder: Path) -> tuple[Path, Path, list[str], float]:
    """Real files (DATA.md): scikit-image photos, Tux Paint stamps and sounds, speech, and
    TEXTS short texts (dictionary words and Tux Paint captions, ``benchmarks.texts``) as
    text files; returns the collection, a folder of 500 more texts to ingest under load,
    FRESH texts to ask that were neither ingested nor asked, and the ingest's seconds."""
    import random

    import skimage.data
    from PIL import Image

    from benchmarks.texts import _texts as real_texts
    from sensorium.collection import Collection
    from sensorium.eval.datasets import ASTERISK, TUXPAINT
    from sensorium.search.syntax import ACCEPTED

    media = folder / "media"
    media.mkdir()
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        Image.fromarray(getattr(skimage.data, name)()).convert("RGB").save(media / f"{name}.jpg")
    stamps = sorted((TUXPAINT / "animals").rglob("*.png"))[:41]
    sounds = sorted((TUXPAINT / "animals").rglob("*.ogg"))[:10]
    for p in [*stamps, *sounds, ASTERISK / "hello-world.wav"]:
        shutil.copy(p, media / p.name)
    texts = real_texts()
    random.Random(0).shuffle(texts)  # words and captions mixed, the same each run
    _texts(media / "texts", texts[:TEXTS])
    later = _texts(folder / "later" / "texts", texts[TEXTS : TEXTS + 500])
    # asked as they are: those the search syntax reads as words (a caption may hold a colon)
    fresh = [t for t in texts[TEXTS + 500 :] if re.fullmatch(ACCEPTED, t)][:FRESH]
    t0 = time.perf_counter()
    Collection(folder / "db").ingest([media])
    return folder / "db", later.parent, fresh, time.perf_counter() - t0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Ask = Callable[[Any, int], tuple[str, Any]]  # (client, n) -> (what was asked, response)


def _cpu_s(pid: int) -> float:
    """A process's CPU time so far (user and system), from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load(seconds: float, ask: Ask, pid: int | None = None) -> dict[str, Any]:
    """CLIENTS threads asking ``ask(client, n)`` for ``seconds``: latency per kind of request
    and over all, requests a second, errors; with the server's ``pid``, its CPU time per
    request."""
    import httpx

    cpu0 = _cpu_s(pid) if pid else 0.0
    latencies: dict[str, list[float]] = {}
    errors: dict[int, int] = {}  # status -> count, of answers other than 200
    lock = threading.Lock()
    end = time.perf_counter() + seconds

    def client(i: int) -> None:
        with httpx.Client(timeout=120) as c:
            n = i * 7919  # each client starts elsewhere in the queries
            while time.perf_counter() < end:
                s = time.perf_counter()
                what, r = ask(c, n)
                n += 1
                with lock:
                    latencies.setdefault(what, []).append(time.perf_counter() - s)
                    if r.status_code != 200:
                        errors[r.status_code] = errors.get(r.status_code, 0) + 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = _percentiles([x for xs in latencies.values() for x in xs])
    out |= {"errors": sum(errors.values()), "statuses": errors,
            "rps": round(out["requests"] / seconds, 1)}  # fmt: skip
    if pid and out["requests"]:
        out["cpu_ms_per_request"] = round(1000 * (_cpu_s(pid) - cpu0) / out["requests"], 1)
    if len(latencies) > 1:
        out["by_kind"] = {what: _percentiles(xs) for what, xs in latencies.items()}
    return out


def _percentiles(seconds: list[float]) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in seconds)
    return {"requests": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1)}  # fmt: skip


def _single(url: str, n: int = 50) -> dict[str, float]:
    """One client alone: p50 of a text search with the page's k (20)."""
    import httpx

    ms = []
    with httpx.Client(timeout=60) as c:
        for i in range(n):
            s = time.perf_counter()
            c.get(url, params={"q": QUERIES[i % len(QUERIES)], "k": 20})
            ms.append((time.perf_counter() - s) * 1000)
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(sorted(ms)[int(0.95 * (n - 1))], 1),
    }


def _server(
    db: Path, later: Path, src: str | None = None
) -> tuple[subprocess.Popen[bytes], str, float]:
    """``sensorium serve`` as a process (with the code of ``src``, another checkout's, when
    given); its base URL once a search is answered."""
    import httpx

    port = _port()
    t0 = time.perf_counter()
    env = None
    if src is not None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(Path(__file__).parents[1])])}
    server = subprocess.Popen(
        [sys.executable, "-m", "sensorium", "serve", "--db", str(db), "--port", str(port),
         "--root", str(later)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api"
    while True:
        try:
            if httpx.get(f"{base}/search", params={"q": "a cat"}, timeout=60).status_code == 200:
                return server, base, time.perf_counter() - t0
        except httpx.TransportError:
            time.sleep(0.1)
        if time.perf_counter() - t0 > 600:
            server.terminate()
            raise RuntimeError("the service did not answer within 600 s")


def run() -> dict[str, Any]:
    import httpx
    import skimage.data
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        db, later, fresh, ingest_s = _collection(Path(tmp))
        buf = io.BytesIO()
        Image.fromarray(skimage.data.chelsea()).save(buf, "JPEG")
        image = buf.getvalue()
        server, base, startup = _server(db, later)
        url = f"{base}/search"

        def repeated(c: Any, n: int) -> tuple[str, Any]:
            return "text", c.get(url, params={"q": QUERIES[n % len(QUERIES)], "k": 10})

        def new(c: Any, n: int) -> tuple[str, Any]:
            return "new text", c.get(url, params={"q": fresh[n % len(fresh)], "k": 10})

        def uploads(c: Any, n: int) -> tuple[str, Any]:
            if n % 10 == 0:  # every tenth an image upload
                return "image", c.post(url, data={"k": "10"}, files={"image": ("q.jpg", image)})
            return repeated(c, n)

        def health(c: Any, n: int) -> tuple[str, Any]:
            return "health", c.get(f"{base}/health")

        try:
            items = httpx.get(f"{base}/stats", timeout=60).json()["items"]
            alone = _single(url)
            pid = server.pid
            loads = {"health": _load(SECONDS, health, pid),
                     "idle": _load(SECONDS, repeated, pid), "new": _load(SECONDS, new, pid),
                     "uploads": _load(SECONDS, uploads, pid)}  # fmt: skip
            job = httpx.post(f"{base}/ingest", json={"paths": [str(later)]}, timeout=60).json()
            busy = _load(SECONDS, repeated, pid)
            state = httpx.get(f"{base}/jobs/{job['id']}", timeout=60).json()
        finally:
            server.terminate()
            server.wait(timeout=30)
        if BASELINE:  # the same collection (the 500 later texts in it too), the other code
            server, base, _ = _server(db, later, BASELINE)
            url = f"{base}/search"
            try:
                loads["baseline_new"] = _load(SECONDS, new, server.pid)
            finally:
                server.terminate()
                server.wait(timeout=30)
    busy |= {"job_state": state["state"], "job_done": state["done"]}
    from benchmarks.places import cpu

    return {"cpu": cpu(), "clients": CLIENTS, "seconds": SECONDS, "items": items, "ingest_s": round(ingest_s, 1),
            "startup_s": round(startup, 2), "single_client": alone, **loads,
            "load_during_ingest": busy, "baseline": BASELINE}  # fmt: skip


def _row(what: str, r: dict[str, Any]) -> str:
    return (f"| {what} | {r['requests']} | {r['rps']} | {r['p50_ms']} ms | {r['p95_ms']} ms "
            f"| {r['errors']} |")  # fmt: skip


def markdown(data: dict[str, Any]) -> list[str]:
    from benchmarks.places import cpu_line

    if "new" not in data:  # results written before the loads of issue 26.3 existed
        return []
    one, busy = data["single_client"], data["load_during_ingest"]
    peer = f"the same, the code of `SERVICE_BASELINE` ({data.get('baseline')}), same run"
    baseline = [_row(peer, data["baseline_new"])] if "baseline_new" in data else []
    image = data["uploads"]["by_kind"]["image"]
    return [
        "## Service under load",
        "",
        f"`sensorium serve` over {data['items']:,} files (dictionary words and Tux Paint "
        "captions in their languages as text files, photos, sounds, speech), started as a "
        "process; `python -m benchmarks.run --only service` (`benchmarks/service.py`). "
        f"Start-up to the first answered search: **{data['startup_s']:.1f} s**. One client "
        f"alone, `/api/search` text query with the page's k (20): p50 **{one['p50_ms']} ms**, "
        f"p95 {one['p95_ms']} ms. {data['clients']} concurrent clients for "
        f"{data['seconds']:.0f} s each, on the same cores as the server ({cpu_line(data['cpu'])}, "
        f"{data['machine']['cores']} cores):",
        "",
        "| load | requests | requests/s | p50 | p95 | errors |",
        "|---|---|---|---|---|---|",
        _row("`/api/health` (the HTTP ceiling of this machine, same run)", data["health"]),
        _row("text searches, 10 queries asked again and again (answers kept)", data["idle"]),
        _row("text searches, every request a text never asked before", data["new"]),
        *baseline,
        _row("text searches, every tenth an image upload", data["uploads"]),
        _row(
            f"text searches while an ingest job of 500 files runs ({busy['job_state']}, "
            f"{busy['job_done']} done by the end)",
            busy,
        ),
        "",
        f"Image uploads within the mixed load: p50 {image['p50_ms']} ms, p95 "
        f"**{image['p95_ms']} ms** ({image['requests']} uploads).",
        "",
    ]


if __name__ == "__main__":
    print("\n".join(markdown(run())))
