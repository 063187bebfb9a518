"""Index and search figures: retrieval through `search`, ingest speed, latency, ANN recall, memory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from PIL import ImageOps

import sensorium
from sensorium import media
from sensorium.engine import default_engine
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.search import vectors
from sensorium.search.vectors import VectorIndex
from sensorium.store import Item, LanceStore
from sensorium.store.base import Filter
from sensorium.store.lance import ANN_THRESHOLD, ITEMS

NAME = "search"  # benchmarks/results/search.json, `--only search`

SIZES = (1_000, 10_000, 100_000)
SERVING_SIZES = (10_000, 100_000, 1_000_000)
LANCE_ANN_UP_TO = 100_000  # its IVF-HNSW-SQ build takes 23 s at 100k; about 5 min at 1M


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
    c2i = [[caption_of[Path(h.item.path).stem] for h in coll.search(s.caption, k=k, kind="image", syntax=False)]
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
    space = default_engine().space
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
    space = default_engine().space
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


def _bulk(store: LanceStore, vectors: np.ndarray) -> None:
    """Append rows straight to the table (a benchmark's fill, not an ingest): one kind in
    three each of image, audio and text, so that a kind filter keeps a third."""
    kinds = np.array(["image", "audio", "text"])
    for s in range(0, len(vectors), 100_000):
        v = vectors[s : s + 100_000]
        ids = [f"{s + k:07d}" for k in range(len(v))]
        kind = kinds[(s + np.arange(len(v))) % 3]
        cols = {"id": ids, "path": [f"/synthetic/{kd}/{i}.dat" for kd, i in zip(kind, ids)],
                "kind": kind.tolist(), "size": np.arange(len(v)), "mtime": np.zeros(len(v)),
                "ingested_at": np.zeros(len(v)), "words": ids,
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), 384)}  # fmt: skip
        table = pa.table({f.name: cols.get(f.name, pa.nulls(len(v), f.type)) for f in ITEMS})
        store.items.add(table.cast(ITEMS))


def _exact_top(
    x: np.ndarray, queries: np.ndarray, mask: np.ndarray | None, k: int = 10
) -> list[set[int]]:
    """Exact top-k rows per query (numpy, blocks of 100k rows)."""
    best: list[list[tuple[float, int]]] = [[] for _ in queries]
    for s in range(0, len(x), 100_000):
        sims = queries @ x[s : s + 100_000].T  # (Q, B)
        if mask is not None:
            sims[:, ~mask[s : s + 100_000]] = -np.inf
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        for qi, row in enumerate(top):
            best[qi] = sorted(best[qi] + [(float(sims[qi, j]), s + int(j)) for j in row])[-k:]
    return [{i for _, i in b} for b in best]


def _numpy_top(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.argpartition(-(x @ q), 10)[:10]


def _faiss_top(graph: Any, q: np.ndarray) -> np.ndarray:
    return graph.search(q[None], 10)[1][0]  # type: ignore[no-any-return]


def _store_ids(hits: list[tuple[Item, float]]) -> set[int]:
    return {int(it.id) for it, _ in hits}


def _encode(space: Any, text: str) -> np.ndarray:
    return space.text.encode([text + " again"])  # type: ignore[no-any-return]


def _timed(fn: Any, queries: Any) -> tuple[dict[str, float], list[Any]]:
    times, out = [], []
    for q in queries:
        t = time.perf_counter()
        out.append(fn(q))
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
    }, out


def _catch_up(index: VectorIndex, queries: np.ndarray) -> dict[str, Any]:
    """The serving index reading a new version in one thread while another searches: how
    long the read takes, and the searches meanwhile (answered from the version before)."""
    done = threading.Event()
    took: list[float] = []

    def read() -> None:
        t = time.perf_counter()
        index.sync()
        took.append(time.perf_counter() - t)
        done.set()

    loader = threading.Thread(target=read)
    loader.start()
    while not index._loading.locked() and not done.is_set():  # the loader first, not a search
        time.sleep(0.0005)
    times = []
    while not done.is_set() and len(times) < 10_000:
        t = time.perf_counter()
        index.search(queries[len(times) % len(queries)], 10)
        times.append((time.perf_counter() - t) * 1000)
    loader.join()
    ms = np.array(times or [float("nan")])
    return {"sync_after_commit_s": round(took[0], 3), "searches_during_sync": len(times),
            "during_sync_p50_ms": round(float(np.median(ms)), 3),
            "during_sync_max_ms": round(float(ms.max()), 3)}  # fmt: skip


def _recall(found: list[set[int]], truth: list[set[int]]) -> float:
    return round(float(np.mean([len(f & t) / max(len(t), 1) for f, t in zip(found, truth)])), 4)


def serving(tmp: Path, sizes: tuple[int, ...] = SERVING_SIZES) -> dict[str, Any]:
    """Query latency and recall@10 of every path on the same vectors in one run: numpy exact
    scan, FAISS HNSW and IVF-Flat alone, LanceDB (its index up to ``LANCE_ANN_UP_TO``), the serving index
    (store part: nearest rows and their items), and `Collection.search` end to end."""
    import faiss

    space = default_engine().space
    stamps = tuxpaint_stamps()
    captions = [s.caption for s in stamps]
    base = space.text.encode(captions)  # (785, 384) real caption vectors
    texts = [
        f"{c} {w}" for c, w in zip(captions[::3], ("photo", "picture", "image", "drawing") * 100)
    ][:200]
    queries = space.text.encode(texts)  # distinct real text queries
    rng = np.random.default_rng(0)
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "?",
    )
    out: dict[str, Any] = {
        "queries": len(queries),
        "k": 10,
        "cpu": cpu,
        "cores": faiss.omp_get_max_threads(),
    }
    for n in sizes:
        i, j = rng.integers(0, len(base), (2, n))
        a = rng.uniform(0, 1, (n, 1)).astype(np.float32)
        x = a * base[i] + (1 - a) * base[j] + rng.normal(0, 0.01, (n, 384)).astype(np.float32)
        x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)  # (n, 384)
        folder = tmp / f"serve-{n}"
        store = LanceStore(folder)
        _bulk(store, x)
        row: dict[str, Any] = {}
        t = time.perf_counter()
        store.index_keywords()  # as `maintain` makes them
        row["keyword_index_s"] = round(time.perf_counter() - t, 1)
        audio = np.arange(n) % 3 == 1
        truth = _exact_top(x, queries, None)
        truth_audio = _exact_top(x, queries, audio)
        row["numpy_exact"], _ = _timed(partial(_numpy_top, x), queries[:50])
        t = time.perf_counter()
        index = VectorIndex(store)
        st = index.sync()
        row["serving_build_s"] = round(time.perf_counter() - t, 1)
        if st.graph is not None:  # the serving index's own FAISS IVF-Flat, alone
            st.graph.nprobe = vectors.NPROBE
            row["faiss_ivf"], found = _timed(partial(_faiss_top, st.graph), queries)
            row["faiss_ivf"]["recall_at_10"] = _recall([set(f.tolist()) for f in found], truth)
        # the reference: a FAISS HNSW graph (M 16, efConstruction 40, efSearch 128)
        t = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(384, 16, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 40
        hnsw.add(x)
        hnsw.hnsw.efSearch = 128
        row["faiss_hnsw_build_s"] = round(time.perf_counter() - t, 1)
        row["faiss_hnsw"], found = _timed(partial(_faiss_top, hnsw), queries)
        row["faiss_hnsw"]["recall_at_10"] = _recall([set(f.tolist()) for f in found], truth)
        del hnsw
        row["serving"], found = _timed(partial(index.search, k=10), queries)
        row["serving"]["recall_at_10"] = _recall([_store_ids(h) for h in found], truth)
        only_audio = Filter(kind="audio")
        row["serving_filtered"], found = _timed(
            partial(index.search, k=10, where=only_audio), queries
        )
        row["serving_filtered"]["recall_at_10"] = _recall(
            [_store_ids(h) for h in found], truth_audio
        )
        if n <= LANCE_ANN_UP_TO:
            t = time.perf_counter()
            store.build_index()
            row["lance_ann_build_s"] = round(time.perf_counter() - t, 1)
            row["lance_ann"], found = _timed(partial(store.search, k=10), queries[:100])
            row["lance_ann"]["recall_at_10"] = _recall([_store_ids(h) for h in found], truth[:100])
        # an ingest batch of 64 new items: the index follows without a rebuild
        store.upsert([Item(id=f"new{k}", path=f"/synthetic/new/{k}.dat", sha256="", size=0,
                           mtime=0.0, kind="image", vector=x[k]) for k in range(64)])  # fmt: skip
        row.update(_catch_up(index, queries))
        after = index.sync()
        row["rebuilt_after_commit"] = after.graph is not st.graph
        coll = sensorium.open(folder)
        coll.index = index  # the serving index built above
        row["end_to_end"], _ = _timed(partial(coll.search, k=10), texts)
        row["end_to_end_repeated"], _ = _timed(partial(coll.search, k=10), texts[:50])
        row["query_encode"], _ = _timed(partial(_encode, space), texts[:50])
        out[str(n)] = row
        del index, st, coll, x
        shutil.rmtree(folder)
    return out


def serving_markdown(data: dict[str, Any]) -> list[str]:
    lines = [
        f"Query latency, k = 10, {data['queries']} distinct real text queries, on {data['cpu']} "
        f"({data['cores']} cores). Store part = nearest rows and their items; end to end = "
        "`Collection.search(text)` on a serving collection (query encoding, nearest rows, "
        "keyword match, re-ranking, explanations). Recall@10 against a numpy exact scan.",
        "",
        "| items | numpy exact p50 | FAISS HNSW p50 (recall; build) | FAISS IVF-Flat p50 (recall) | LanceDB ANN p50 (recall) | serving store part p50 / p95 (recall) | filtered (kind, 1/3) p50 (recall) | end to end p50 / p95 | repeated query p50 | serving index build | catch up after a 64-item commit (searches meanwhile: how many, p50 / max) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in SERVING_SIZES:
        r = data.get(str(n))
        if not r:
            continue
        f, h = r.get("faiss_ivf"), r["faiss_hnsw"]
        la = r.get("lance_ann")
        lines.append(
            f"| {n:,} | {r['numpy_exact']['p50_ms']:.1f} ms | "
            f"{h['p50_ms']:.2f} ms ({h['recall_at_10']:.3f}; {r['faiss_hnsw_build_s']} s) | "
            + (f"{f['p50_ms']:.2f} ms ({f['recall_at_10']:.3f})" if f else "– (exact)")
            + " | "
            + (f"{la['p50_ms']:.1f} ms ({la['recall_at_10']:.3f})" if la else "not built (5 min)")
            + " | "
            f"**{r['serving']['p50_ms']:.2f}** / {r['serving']['p95_ms']:.2f} ms ({r['serving']['recall_at_10']:.3f}) | "
            f"{r['serving_filtered']['p50_ms']:.2f} ms ({r['serving_filtered']['recall_at_10']:.3f}) | "
            f"**{r['end_to_end']['p50_ms']:.1f}** / {r['end_to_end']['p95_ms']:.1f} ms | "
            f"{r['end_to_end_repeated']['p50_ms']:.1f} ms | {r['serving_build_s']} s | {r.get('sync_after_commit_s', '–')} s"
            + (
                f" ({r['searches_during_sync']}: {r['during_sync_p50_ms']:.2f} / {r['during_sync_max_ms']:.1f} ms) |"
                if "searches_during_sync" in r
                else " |"
            )
        )
    return lines


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
        "serving": serving(tmp),
    }


def _tables_markdown(s: dict[str, Any]) -> list[str]:
    r, ing, sc, mem = s["retrieval"], s["ingest"], s["scale"], s["memory"]
    lines = [
        "## Index and search",
        "",
        f"Tux Paint through `Collection.search` ({r['stamps']} photos and their captions ingested as files; "
        "caption → photo with `--type image`, photo → caption with `--image` and `--type text`):",
        "",
        "| direction | R@1 | R@5 | R@10 |",
        "|---|---|---|---|",
    ]
    for name, key in (
        ("caption → photo", "caption_to_photo"),
        ("photo → caption", "photo_to_caption"),
    ):
        lines.append(
            f"| {name} | {r[key]['R@1']:.3f} | {r[key]['R@5']:.3f} | {r[key]['R@10']:.3f} |"
        )
    lines += [
        "",
        "A hit counts as right when its caption is the query's: some stamps share a caption "
        "(the filled and the outlined letter K are both “The letter K.”).",
        "",
        f"Ingest of {ing['photos']} Tux Paint PNGs, end to end (sniff, hash, decode, encode, write): "
        f"**{ing['ingest_per_s']:.1f} photos/s**, against {ing['encoder_only_per_s']:.1f} photos/s for the "
        f"encoders alone on pre-decoded images in the same run: **{100 * ing['ingest_vs_encoder']:.0f}%**. "
        f"Unchanged re-ingest: {ing['unchanged_reingest_s']:.2f} s against {ing['first_ingest_s']:.1f} s, "
        f"**{ing['reingest_speedup']:.0f}x** faster.",
        "",
        f"Peak memory of `ingest` over {mem['photos']} distinct JPEG photos (Tux Paint photos, mirrored and "
        f"flipped): **{mem['peak_rss_mb']:.0f} MB** ({mem['per_s']:.1f} photos/s).",
        "",
        f"Latency of one text query (k = 10, store level) over {sc['queries']} real caption queries. Items are "
        "mixes of two real vectors (Tux Paint photos and captions) plus a little noise (σ = 0.01 a dimension), "
        "so that the cloud spreads like a real collection:",
        "",
        "| items | exact p50 | exact p95 | ANN p50 | ANN p95 | ANN recall@10 | index build | size on disk |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in (1_000, 10_000, 100_000):
        e, a = sc[f"exact_{n}"], sc.get(f"ann_{n}")
        ann = "– | – | – | –"
        if a:
            ann = (
                f"{a['p50_ms']:.1f} ms | {a['p95_ms']:.1f} ms | **{sc[f'ann_recall_at_10_{n}']:.3f}** | "
                f"{sc[f'ann_build_s_{n}']:.0f} s"
            )
        lines.append(
            f"| {n:,} | {e['p50_ms']:.1f} ms | {e['p95_ms']:.1f} ms | {ann} | {sc[f'bytes_{n}'] / 1e6:.0f} MB |"
        )
    lines += [
        "",
        "ANN is LanceDB's IVF-HNSW-SQ index (cosine, 16 partitions probed, ef 64); the store builds it "
        f"automatically from {sc['ann_threshold']:,} items, where it starts to beat the exact scan.",
        "",
    ]
    return lines


def markdown(data: dict[str, Any]) -> list[str]:
    """Retrieval, ingest and latency tables, the latency plot (drawn by ``figures``), then the
    serving figures."""
    serving = serving_markdown(data["serving"]) if "serving" in data else []
    return [*_tables_markdown(data), "![query latency against collection size](latency.png)", "",
            *serving]  # fmt: skip


def figures(s: dict[str, Any], folder: Path) -> None:
    """``folder/latency.png`` (docs/): query latency against collection size, exact and with the
    index; ``markdown`` links it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sc = s["scale"]
    sizes = [1_000, 10_000, 100_000]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95")):
        ax.plot(sizes, [sc[f"exact_{n}"][key] for n in sizes], "o-", label=f"exact {label}")
        ann = [n for n in sizes if f"ann_{n}" in sc]
        ax.plot(ann, [sc[f"ann_{n}"][key] for n in ann], "s--", label=f"ANN {label}")
    ax.set(xscale="log", xlabel="items in the collection", ylabel="ms per text query (k = 10)",
           title="Search latency on 2 CPU cores")  # fmt: skip
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "latency.png", dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(run(Path(d)), indent=2))
