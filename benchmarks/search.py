"""Index and search figures: retrieval through `search`, ingest speed, latency, ANN recall, memory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ImageOps

import sensorium
from sensorium import media
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.space import default_space
from sensorium.store import Item, LanceStore
from sensorium.store.lance import ANN_THRESHOLD

SIZES = (1_000, 10_000, 100_000)


def _stamp_folder(dest: Path) -> list[Any]:
    """Tux Paint photos in one folder, and their captions as text files in another."""
    stamps = tuxpaint_stamps()
    (dest / "photos").mkdir(parents=True)
    (dest / "captions").mkdir()
    for i, s in enumerate(stamps):
        shutil.copy(s.image, dest / "photos" / f"{i:04d}.png")
        (dest / "captions" / f"{i:04d}.txt").write_text(s.caption)
    return stamps


def _recall(hits_per_query: list[list[str]], truth: list[str], k: int) -> dict[str, float]:
    """R@1/5/10; a hit is right when its caption is the query's (some stamps share one)."""
    ranks = np.array([h.index(t) if t in h else k for h, t in zip(hits_per_query, truth)])
    return {f"R@{n}": float((ranks < n).mean()) for n in (1, 5, 10)}


def retrieval_through_search(tmp: Path) -> dict[str, Any]:
    stamps = _stamp_folder(tmp / "tux")
    coll = sensorium.open(tmp / "tux-db")
    report = coll.ingest([tmp / "tux" / "photos", tmp / "tux" / "captions"])
    photos = sorted((tmp / "tux" / "photos").iterdir())
    captions = sorted((tmp / "tux" / "captions").iterdir())
    k = 10
    caption_of = {p.stem: s.caption for p, s in zip(photos, stamps)}
    assert [c.stem for c in captions] == list(caption_of)
    c2i = [[caption_of[Path(h.item.path).stem] for h in coll.search(s.caption, k=k, kind="image")]
           for s in stamps]  # fmt: skip
    i2c = [[caption_of[Path(h.item.path).stem] for h in coll.search(image=p, k=k, kind="text")]
           for p in photos]  # fmt: skip
    truth = [s.caption for s in stamps]
    return {"stamps": len(stamps), "ingest_failed": len(report.failed),
            "caption_to_photo": _recall(c2i, truth, k), "photo_to_caption": _recall(i2c, truth, k)}  # fmt: skip


def ingest_speed(tmp: Path) -> dict[str, Any]:
    """End-to-end ingest of Tux Paint photos vs the encoder alone on the same, pre-decoded, files."""
    folder = tmp / "speed"
    folder.mkdir()
    stamps = tuxpaint_stamps()
    for i, s in enumerate(stamps):
        shutil.copy(s.image, folder / f"{i:04d}.png")
    files = sorted(folder.iterdir())
    space = default_space()
    images = [media.load_image(p, 224) for p in files]
    space.embed(images[:16])  # warm-up: models loaded, prompt vectors cached
    t = time.perf_counter()
    for s in range(0, len(images), 32):
        space.embed(images[s : s + 32])
    encoder_only = len(images) / (time.perf_counter() - t)
    coll = sensorium.open(tmp / "speed-db")
    first = coll.ingest([folder])
    again = coll.ingest([folder])
    return {
        "photos": len(files),
        "encoder_only_per_s": encoder_only,
        "ingest_per_s": first.added / first.seconds,
        "ingest_vs_encoder": first.added / first.seconds / encoder_only,
        "first_ingest_s": first.seconds,
        "unchanged_reingest_s": again.seconds,
        "reingest_speedup": first.seconds / max(again.seconds, 1e-6),
    }


def _fill(store: LanceStore, base: np.ndarray, n: int, rng: np.random.Generator) -> None:
    """n rows between real embeddings: a random mix of two real vectors plus a little noise,
    so the cloud is spread like a real collection rather than 785 tight clusters."""
    for s in range(0, n, 10_000):
        m = min(10_000, n - s)
        i, j = rng.integers(0, len(base), m), rng.integers(0, len(base), m)
        a = rng.uniform(0, 1, (m, 1))
        v = a * base[i] + (1 - a) * base[j] + rng.normal(0, 0.01, (m, base.shape[1]))
        v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)  # (m, 384)
        store.upsert([Item(id=f"{s + k:07d}", path=f"/synthetic/{s + k:07d}.png", sha256="",
                           size=0, mtime=0.0, kind="image", vector=v[k]) for k in range(m)])  # fmt: skip


def _latency(
    store: LanceStore, queries: np.ndarray, k: int = 10
) -> tuple[dict[str, float], list[list[str]]]:
    times, results = [], []
    for q in queries:
        t = time.perf_counter()
        hits = store.search(q, k)
        times.append(time.perf_counter() - t)
        results.append([h.id for h, _ in hits])
    ms = np.array(times) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}, results


def latency_and_ann(tmp: Path) -> dict[str, Any]:
    """Text-query latency, exact and with the store's ANN index, at growing collection sizes."""
    space = default_space()
    stamps = tuxpaint_stamps()
    images = np.stack(
        [e.vector for e in space.embed([media.load_image(s.image, 224) for s in stamps])]
    )
    captions = space.text.encode([s.caption for s in stamps])
    base = np.concatenate([images, captions])  # (2N, 384) real vectors of both kinds
    queries = space.text.encode([s.caption for s in stamps[::4]][:200])  # real text queries
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {"queries": len(queries), "ann_threshold": ANN_THRESHOLD}
    for n in SIZES:
        store = LanceStore(tmp / f"scale-{n}")
        _fill(store, base, n, rng)
        out[f"exact_{n}"], exact_ids = _latency(store, queries)
        out[f"bytes_{n}"] = store.info()["bytes"]
        if n >= 10_000:
            t = time.perf_counter()
            store.build_index()
            out[f"ann_build_s_{n}"] = time.perf_counter() - t
            out[f"ann_{n}"], ann_ids = _latency(store, queries)
            out[f"ann_recall_at_10_{n}"] = float(
                np.mean([len(set(a) & set(e)) / 10 for a, e in zip(ann_ids, exact_ids)])
            )
        shutil.rmtree(tmp / f"scale-{n}")
    return out


def ingest_memory(tmp: Path, n: int = 3000) -> dict[str, Any]:
    """Peak RSS of `sensorium ingest` over a folder of n real photos (Tux Paint photos, flipped,
    mirrored and re-saved as JPEG so that every file is distinct)."""
    folder = tmp / "many"
    folder.mkdir()
    stamps = tuxpaint_stamps()
    variants = [
        lambda im: im,
        ImageOps.mirror,
        ImageOps.flip,
        lambda im: ImageOps.flip(ImageOps.mirror(im)),
    ]
    for i in range(n):
        im = media.load_image(stamps[i % len(stamps)].image).image
        variants[(i // len(stamps)) % 4](im).save(folder / f"{i:05d}.jpg", quality=90)
    # VmHWM is the peak of this process's own memory map: ru_maxrss would report the parent's
    # peak instead, because Linux carries it across fork and exec.
    code = (
        "import sensorium, sys, json, re;"
        "r = sensorium.open(sys.argv[2]).ingest([sys.argv[1]]);"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1);"
        "print(json.dumps({'added': r.added, 'seconds': r.seconds, 'peak_rss_mb': int(hwm) / 1024}))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(folder), str(tmp / "many-db")],
                          capture_output=True, text=True, check=True)  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"photos": n, **result, "per_s": result["added"] / result["seconds"]}


def run(tmp: Path) -> dict[str, Any]:
    return {
        "retrieval": retrieval_through_search(tmp),
        "ingest": ingest_speed(tmp),
        "scale": latency_and_ann(tmp),
        "memory": ingest_memory(tmp),
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(run(Path(d)), indent=2))
