"""The service under load: start-up to the first answered search, then 32 concurrent clients
searching for a bounded time on a real collection (latency p50/p95, requests/s, errors).

    python -m benchmarks.service          # prints the markdown table
"""

from __future__ import annotations

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
SECONDS = 20.0  # of load
QUERIES = ["a cat", "a bird singing", "someone says hello", "a rocket", "coffee", "an animal",
           "a person", "a penguin", "music", "a kangaroo"]  # fmt: skip


def _collection(folder: Path) -> Path:
    """Real files (DATA.md): scikit-image photos, Tux Paint stamps and sounds, speech."""
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
    Collection(folder / "db").ingest([media])
    return folder / "db"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run() -> dict[str, Any]:
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        db = _collection(Path(tmp))
        port = _port()
        t0 = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "sensorium", "serve", "--db", str(db), "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/api/search"
        try:
            while True:
                try:
                    if httpx.get(url, params={"q": "a cat"}, timeout=30).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
                if time.perf_counter() - t0 > 300:
                    raise RuntimeError("the service did not answer within 300 s")
            startup = time.perf_counter() - t0
            latencies: list[float] = []
            errors = 0
            lock = threading.Lock()
            end = time.perf_counter() + SECONDS

            def client(i: int) -> None:
                nonlocal errors
                with httpx.Client(timeout=60) as c:
                    n = i
                    while time.perf_counter() < end:
                        q = QUERIES[n % len(QUERIES)]
                        n += 1
                        s = time.perf_counter()
                        ok = c.get(url, params={"q": q, "k": 10}).status_code == 200
                        with lock:
                            latencies.append(time.perf_counter() - s)
                            errors += not ok

            threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
    ms = sorted(x * 1000 for x in latencies)
    return {
        "clients": CLIENTS, "seconds": SECONDS, "requests": len(ms), "errors": errors,
        "rps": round(len(ms) / SECONDS, 1), "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1), "startup_s": round(startup, 2),
    }  # fmt: skip


def markdown(data: dict[str, Any]) -> list[str]:
    return [
        f"### Service: {data['clients']} concurrent clients searching for {data['seconds']:.0f} s",
        "",
        "| start-up to first search | requests | requests/s | p50 | p95 | errors |",
        "|---|---|---|---|---|---|",
        f"| {data['startup_s']:.1f} s | {data['requests']} | {data['rps']} | {data['p50_ms']} ms "
        f"| {data['p95_ms']} ms | {data['errors']} |",
    ]


if __name__ == "__main__":
    print("\n".join(markdown(run())))
