"""The service under load: start-up to the first answered search, one client alone, then 32
concurrent clients searching for a bounded time on a real collection of 10,000+ files, idle
and while an ingest job runs (latency p50/p95, requests/s, errors).

    python -m benchmarks.service          # prints the markdown table
"""

from __future__ import annotations

import io
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

NAME = "service"
CLIENTS = 32
SECONDS = 60.0  # of load, idle and again during an ingest
QUERIES = ["a cat", "a bird singing", "someone says hello", "a rocket", "coffee", "an animal",
           "a person", "a penguin", "music", "a kangaroo"]  # fmt: skip


TEXTS = 10_000  # real short texts ingested as files, beside the photos and sounds


def _captions() -> list[str]:
    """Real short texts: every Tux Paint stamp's caption in each of its languages."""
    from sensorium.eval.datasets import TUXPAINT

    out: list[str] = []
    for txt in sorted(TUXPAINT.rglob("*.txt")):
        for line in txt.read_text(errors="replace").splitlines():
            text = line.split("=", 1)[1] if ".utf8=" in line else line
            if text.strip():
                out.append(text.strip())
    return list(dict.fromkeys(out))


def _texts(folder: Path, texts: list[str]) -> Path:
    folder.mkdir(parents=True)
    for i, t in enumerate(texts):
        (folder / f"{i:05d}.txt").write_text(t)
    return folder


def _collection(folder: Path) -> tuple[Path, Path, float]:
    """Real files (DATA.md): scikit-image photos, Tux Paint stamps and sounds, speech, and
    TEXTS Tux Paint captions as text files; returns the collection, a folder of 500 more
    captions to ingest under load, and the ingest's seconds."""
    import skimage.data
    from PIL import Image

    from sensorium.collection import Collection
    from sensorium.eval.datasets import ASTERISK, TUXPAINT

    media = folder / "media"
    media.mkdir()
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        Image.fromarray(getattr(skimage.data, name)()).convert("RGB").save(media / f"{name}.jpg")
    stamps = sorted((TUXPAINT / "animals").rglob("*.png"))[:40]
    sounds = sorted((TUXPAINT / "animals").rglob("*.ogg"))[:10]
    for p in [*stamps, *sounds, ASTERISK / "hello-world.wav"]:
        shutil.copy(p, media / p.name)
    captions = _captions()
    _texts(media / "texts", captions[:TEXTS])
    later = _texts(folder / "later" / "texts", captions[TEXTS : TEXTS + 500])
    t0 = time.perf_counter()
    Collection(folder / "db").ingest([media])
    return folder / "db", later.parent, time.perf_counter() - t0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load(url: str, seconds: float, image: bytes) -> dict[str, Any]:
    """CLIENTS threads searching for ``seconds``: text queries, every tenth an image upload."""
    import httpx

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    end = time.perf_counter() + seconds

    def client(i: int) -> None:
        nonlocal errors
        with httpx.Client(timeout=120) as c:
            n = i
            while time.perf_counter() < end:
                q = QUERIES[n % len(QUERIES)]
                n += 1
                s = time.perf_counter()
                if n % 10 == 0:
                    r = c.post(url, data={"k": "10"}, files={"image": ("q.jpg", image)})
                else:
                    r = c.get(url, params={"q": q, "k": 10})
                with lock:
                    latencies.append(time.perf_counter() - s)
                    errors += r.status_code != 200

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ms = sorted(x * 1000 for x in latencies)
    return {"requests": len(ms), "errors": errors, "rps": round(len(ms) / seconds, 1),
            "p50_ms": round(statistics.median(ms), 1),
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


def run() -> dict[str, Any]:
    import httpx
    import skimage.data
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        db, later, ingest_s = _collection(Path(tmp))
        buf = io.BytesIO()
        Image.fromarray(skimage.data.chelsea()).save(buf, "JPEG")
        image = buf.getvalue()
        port = _port()
        t0 = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "sensorium", "serve", "--db", str(db), "--port", str(port),
             "--root", str(later)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}/api"
        url = f"{base}/search"
        try:
            while True:
                try:
                    if httpx.get(url, params={"q": "a cat"}, timeout=60).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
                if time.perf_counter() - t0 > 300:
                    raise RuntimeError("the service did not answer within 300 s")
            startup = time.perf_counter() - t0
            items = httpx.get(f"{base}/stats", timeout=60).json()["items"]
            alone = _single(url)
            idle = _load(url, SECONDS, image)
            job = httpx.post(f"{base}/ingest", json={"paths": [str(later)]}, timeout=60).json()
            busy = _load(url, SECONDS, image)
            state = httpx.get(f"{base}/jobs/{job['id']}", timeout=60).json()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"clients": CLIENTS, "seconds": SECONDS, "items": items, "ingest_s": round(ingest_s, 1),
            "startup_s": round(startup, 2), "single_client": alone, "load": idle,
            "load_during_ingest": busy | {"job_state": state["state"], "job_done": state["done"]}}  # fmt: skip


def markdown(data: dict[str, Any]) -> list[str]:
    if "load" not in data:  # results written before the ingest-under-load run existed
        return []
    one, idle, busy = data["single_client"], data["load"], data["load_during_ingest"]
    return [
        "## Service under load",
        "",
        f"`sensorium serve` over {data['items']:,} files (Tux Paint captions in their languages "
        "as text files, photos, sounds, speech), started as a process; `benchmarks/service.py`. "
        f"Start-up to the first answered search: **{data['startup_s']:.1f} s**. One client alone, "
        f"`/api/search` text query with the page's k (20): p50 **{one['p50_ms']} ms**, p95 "
        f"{one['p95_ms']} ms. {data['clients']} concurrent clients for {data['seconds']:.0f} s, "
        "text queries and every tenth an image upload:",
        "",
        "| while | requests | requests/s | p50 | p95 | errors |",
        "|---|---|---|---|---|---|",
        f"| idle | {idle['requests']} | {idle['rps']} | {idle['p50_ms']} ms | {idle['p95_ms']} ms "
        f"| {idle['errors']} |",
        f"| an ingest job of 500 files runs ({busy['job_state']}, {busy['job_done']} done by the "
        f"end) | {busy['requests']} | {busy['rps']} | {busy['p50_ms']} ms | {busy['p95_ms']} ms "
        f"| {busy['errors']} |",
        "",
    ]


if __name__ == "__main__":
    print("\n".join(markdown(run())))
