"""The library's default path and a cold start (issue 26, items 1 and 2), each in a fresh
process, beside the peers in the same run: FAISS IVF-Flat built directly (trained, filled, then
written and read back with ``faiss.write_index``/``read_index``), and a numpy exact scan.

- ``library``: ``sensorium.open(db).search(text)`` in a new process, 200 text queries one after
  another, without ``serve()``: the first from the store, then (from the second search on the
  serving index builds in a daemon thread) from memory once it is ready. Once with no
  ``items.ivf`` (a collection never served), once with it.
- ``serve``: a new process that calls ``serve()`` then searches (as the service does): the
  serving index trained (no file), then read from ``items.ivf``: start-up to the first
  answer, the index's query latency (nearest rows and their items) and recall@10 against an
  exact scan, and end to end.
- The keyword index kept beside ``items.ivf`` (``items.keywords``, search/keywords.py) is
  removed with it where a path starts without one.
- ``cli``: the wall time of a one-shot ``sensorium search`` (start-up included), and of the
  imports alone.
- ``baseline_*``: with ``COLD_START_BASELINE`` naming another checkout's ``src`` folder (the
  code before a change), its library path (``items.ivf`` present) and CLI too, in the same
  run on the same collection: the peer to compare against on a shared machine.

``COLD_START_SIZES`` (default ``100000,1000000``) picks the sizes; ``COLD_START_RESULTS``
names the results file (``benchmarks/results/<name>.json``, default ``cold_start``), so that a
run of some sizes on another machine does not replace the figures of another.

The collection is as ``benchmarks/search.py``'s serving figures make it: mixes of two real
caption vectors plus noise (``_bulk``), keyword indices built; at 100k also LanceDB's own ANN
index (what ``maintain`` builds from 10k items), which answers the store's searches. Its first
rows are distinct real captions, each its own text's vector: self-retrieval is each caption
searched as text finding its row first.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

NAME = os.environ.get("COLD_START_RESULTS", "cold_start")  # benchmarks/results/<NAME>.json
RUNS = True  # its other results files (cold_start_*.json) are rendered after its own
BASELINE = os.environ.get("COLD_START_BASELINE")  # another checkout's src/, run beside
SIZES = tuple(int(s) for s in os.environ.get("COLD_START_SIZES", "100000,1000000").split(","))
LANCE_ANN_UP_TO = 100_000  # LanceDB's own index: 64 s to build at 100k here, minutes at 1M
QUERIES = 200
SELF = 50  # captions searched for themselves
CLI_RUNS = 5

CHILD = r"""
import json, sys, time
spawned, mode, db, out = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
import numpy as np
import sensorium
texts = json.loads(open(sys.argv[5]).read())
coll = sensorium.open(db)
res = {"import_open_s": time.time() - spawned}
if mode == "serve":
    t = time.perf_counter(); coll.serve(); res["serve_s"] = time.perf_counter() - t
ms, via, first = [], [], None
for q in texts["queries"]:
    via.append("index" if coll.index is not None else "store")
    t = time.perf_counter()
    coll.search(q, k=10)
    ms.append((time.perf_counter() - t) * 1000)
    if first is None:
        first = time.time() - spawned
    if mode == "library" and coll._building is not None and "switch_s" not in res:
        res["building_since_s"] = time.time() - spawned
    if coll.index is not None and "switch_s" not in res:
        res["switch_s"] = time.time() - spawned
res.update(first_answer_s=first, ms=ms, via=via)
if coll._building is not None:
    coll._building.join()
def own(c, caps):
    return [c.search(q, k=1, keywords=False)[0].item.id for q in caps]
res["self_index"] = own(coll, texts["self"])
enc = []
for q in texts["queries"][:50]:  # the query encoder alone, new texts (no cache)
    t = time.perf_counter()
    coll.space.text.encode([q + " again"])
    enc.append((time.perf_counter() - t) * 1000)
res["encode_ms"] = enc
if mode == "serve":
    vectors = np.load(texts["vectors"])
    found, vms = [], []
    for v in vectors:
        t = time.perf_counter()
        hits = coll.index.search(v, 10)
        vms.append((time.perf_counter() - t) * 1000)
        found.append([int(it.id) for it, _ in hits])
    res.update(index_ms=vms, index_found=found)
if mode == "library" and texts.get("store_self"):
    plain = sensorium.open(db); plain.auto_serve = False
    res["self_store"] = own(plain, texts["self"])
open(out, "w").write(json.dumps(res))
"""


def _pct(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "n": len(ms)}  # fmt: skip


def _env(src: str | None) -> dict[str, str] | None:
    """The environment of a child that imports sensorium from ``src`` (None: this one)."""
    if src is None:
        return None
    return {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(Path(__file__).parents[1])])}


def _child(mode: str, db: Path, spec: Path, tmp: Path, src: str | None = None) -> dict[str, Any]:
    out = tmp / f"{mode}.json"
    subprocess.run([sys.executable, "-c", CHILD, repr(time.time()), mode, str(db), str(out),
                    str(spec)], check=True, timeout=3600, env=_env(src))  # fmt: skip
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def _summary(
    r: dict[str, Any], self_ids: list[str], truth: list[set[int]] | None
) -> dict[str, Any]:
    from benchmarks.search import _recall

    ms, via = r["ms"], r["via"]
    out: dict[str, Any] = {
        "import_open_s": round(r["import_open_s"], 2),
        "first_answer_s": round(r["first_answer_s"], 2),
        "first_query_ms": round(ms[0], 1),
        "from_third": _pct(ms[2:]),
        "store_answered": via.count("store"),
        "self_r1_index": float(np.mean([a == b for a, b in zip(r["self_index"], self_ids)])),
    }
    if "encode_ms" in r:
        out["query_encode"] = _pct(r["encode_ms"])
    if "serve_s" in r:
        out["serve_s"] = round(r["serve_s"], 2)
    if "switch_s" in r:
        out["switch_s"] = round(r["switch_s"], 2)
    index_ms = [m for m, v in zip(ms, via) if v == "index"]
    store_ms = [m for m, v in zip(ms, via) if v == "store"]
    if index_ms:
        out["index_end_to_end"] = _pct(index_ms)
    if store_ms:
        out["store_end_to_end"] = _pct(store_ms)
    if "self_store" in r:
        out["self_r1_store"] = float(np.mean([a == b for a, b in zip(r["self_store"], self_ids)]))
    if truth is not None and "index_ms" in r:
        out["index_store_part"] = _pct(r["index_ms"])
        out["index_first_store_part_ms"] = round(r["index_ms"][0], 2)
        out["index_store_part"]["recall_at_10"] = _recall([set(f) for f in r["index_found"]],
                                                          truth)  # fmt: skip
    return out


def _faiss_peer(
    x: np.ndarray, queries: np.ndarray, truth: list[set[int]], tmp: Path
) -> dict[str, Any]:
    """FAISS IVF-Flat as the serving index makes it (same lists, sample and nprobe), built
    directly, written with ``write_index`` and read back cold with ``read_index``."""
    import faiss

    from benchmarks.search import _recall, _timed
    from sensorium.search import vectors

    n = len(x)
    nlist = int(np.clip(n // vectors.LIST_ROWS, 64, 4096))
    t = time.perf_counter()
    graph = faiss.IndexIVFFlat(faiss.IndexFlatIP(384), 384, nlist, faiss.METRIC_INNER_PRODUCT)
    graph.cp.min_points_per_centroid = 1
    sample = np.random.default_rng(0).choice(n, min(n, nlist * vectors.TRAIN_PER_LIST), False)
    graph.train(x[np.sort(sample)])
    graph.add(x)
    build = time.perf_counter() - t
    path = tmp / "peer.faiss"
    faiss.write_index(graph, str(path))
    del graph
    t = time.perf_counter()
    graph = faiss.read_index(str(path))
    read = time.perf_counter() - t
    graph.nprobe = vectors.NPROBE
    lat, found = _timed(lambda q: graph.search(q[None], 10)[1][0], queries)
    path.unlink()
    return {"build_s": round(build, 1), "read_index_s": round(read, 2), **lat,
            "recall_at_10": _recall([set(f.tolist()) for f in found], truth)}  # fmt: skip


def _cli(db: Path, query: str, src: str | None = None) -> dict[str, Any]:
    def wall(args: list[str]) -> float:
        t = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, timeout=600, env=_env(src))
        return time.perf_counter() - t

    exe = Path(sys.executable).parent / "sensorium"
    search = [
        wall([str(exe), "search", query, "--db", str(db), "-k", "10"]) for _ in range(CLI_RUNS)
    ]
    imports = [wall([sys.executable, "-c", "import sensorium.collection, sensorium.cli"])
               for _ in range(CLI_RUNS)]  # fmt: skip
    return {"search_s": round(statistics.median(search), 2), "search_runs_s": [round(s, 2) for s in search],
            "imports_s": round(statistics.median(imports), 2)}  # fmt: skip


def _collection(
    tmp: Path, n: int, space: Any
) -> tuple[Path, np.ndarray, np.ndarray, list[str], list[str]]:
    from benchmarks.search import _bulk
    from sensorium.eval.datasets import tuxpaint_stamps
    from sensorium.store import LanceStore

    captions = list(dict.fromkeys(s.caption for s in tuxpaint_stamps()))
    base = space.text.encode(captions)  # (C, 384) real caption vectors
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(base), (2, n))
    a = rng.uniform(0, 1, (n, 1)).astype(np.float32)
    x = a * base[i] + (1 - a) * base[j] + rng.normal(0, 0.01, (n, 384)).astype(np.float32)
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)  # (n, 384)
    x[: len(base)] = base  # the first rows are the captions themselves
    texts = [
        f"{c} {w}" for c, w in zip(captions[::3], ("photo", "picture", "image", "drawing") * 100)
    ]
    queries = texts[:QUERIES]
    db = tmp / f"cold-{n}"
    store = LanceStore(db)
    _bulk(store, x)
    store.index_keywords()
    if n <= LANCE_ANN_UP_TO:
        store.build_index()
    self_caps = captions[1 :: max(1, len(captions) // SELF)][:SELF]
    return db, x, space.text.encode(queries), queries, self_caps


def one_size(tmp: Path, n: int) -> dict[str, Any]:
    from benchmarks.search import _exact_top, _numpy_top, _timed
    from sensorium.engine import default_engine
    from sensorium.eval.datasets import tuxpaint_stamps
    from sensorium.search import keywords, persisted

    space = default_engine().space
    db, x, qv, queries, self_caps = _collection(tmp, n, space)
    captions = list(dict.fromkeys(s.caption for s in tuxpaint_stamps()))
    self_ids = [f"{captions.index(c):07d}" for c in self_caps]
    truth = _exact_top(x, qv, None)
    row: dict[str, Any] = {"numpy_exact": _timed(partial(_numpy_top, x), qv[:50])[0]}
    row["faiss_ivf"] = _faiss_peer(x, qv, truth, tmp)
    np.save(tmp / "queries.npy", qv)
    spec = tmp / "spec.json"
    saved = db / persisted.FILE_NAME
    spec.write_text(json.dumps({"queries": queries, "self": self_caps, "vectors": str(tmp / "queries.npy"),
                                "store_self": n <= LANCE_ANN_UP_TO}))  # fmt: skip
    del x
    saved.unlink(missing_ok=True)
    saved.with_name(keywords.FILE_NAME).unlink(missing_ok=True)
    row["serve_trained"] = _summary(_child("serve", db, spec, tmp), self_ids, truth)
    row["saved_mb"] = round(saved.stat().st_size / 1e6)
    row["serve_saved"] = _summary(_child("serve", db, spec, tmp), self_ids, truth)
    row["library_saved"] = _summary(_child("library", db, spec, tmp), self_ids, None)
    if BASELINE:
        row["baseline_library_saved"] = _summary(_child("library", db, spec, tmp, BASELINE),
                                                 self_ids, None)  # fmt: skip
    if n <= LANCE_ANN_UP_TO:  # a collection never served: the index is trained meanwhile
        saved.unlink()
        saved.with_name(keywords.FILE_NAME).unlink(missing_ok=True)
        row["library_new"] = _summary(_child("library", db, spec, tmp), self_ids, None)
        row["cli"] = _cli(db, queries[0])
        if BASELINE:
            row["baseline_cli"] = _cli(db, queries[0], BASELINE)
    row["load_avg"] = os.getloadavg()[0]
    return row


def run(tmp: Path) -> dict[str, Any]:
    from benchmarks.places import cpu, cpu_line

    out: dict[str, Any] = {"cpu": cpu_line(cpu()), "queries": QUERIES, "k": 10,
                           "baseline": BASELINE}  # fmt: skip
    for n in SIZES:
        out[str(n)] = one_size(tmp, n)
        print(n, json.dumps(out[str(n)]), flush=True)
    return out


def markdown(data: dict[str, Any]) -> list[str]:
    lines = [
        "## The library's default path and a cold start",
        "",
        f"`python -m benchmarks.run --only cold_start`, on {data['cpu']} (shared: the 1-minute load "
        "average at the end of each size is in the table). Each path in a new process; "
        f"{data['queries']} distinct real text queries, k = {data['k']}; the collection as in the "
        "serving figures above (mixes of real caption vectors; LanceDB's own ANN index at 100k, "
        "none at 1M). Peers in the same run: FAISS IVF-Flat built directly with the same lists "
        "and nprobe (written and read back with `write_index` / `read_index`), numpy exact scan.",
        "",
        "| items | path | start-up to first answer (from process start) | index ready (`serve()`: its time; library: first answer by the index, from process start) | first query (loads the text model) | p50 / p95 from the 3rd query | of it, the query encoder p50 | answered by the store | index alone p50 (first; recall@10) | self-retrieval R@1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in SIZES:
        r = data.get(str(n))
        if not r:
            continue
        for key, label in (("library_new", "library, never served (index trained in the background)"),
                           ("library_saved", "library, `items.ivf` present (read in the background)"),
                           ("baseline_library_saved", "the same, the code of `COLD_START_BASELINE` (peer)"),
                           ("serve_trained", "`serve()`, no `items.ivf` (trained)"),
                           ("serve_saved", "`serve()`, `items.ivf` present")):  # fmt: skip
            s = r.get(key)
            if not s:
                continue
            ready = s.get("serve_s", s.get("switch_s"))
            ip = s.get("index_store_part")
            alone = (f"{ip['p50_ms']:.2f} ms ({s['index_first_store_part_ms']:.2f} ms; {ip['recall_at_10']:.4f})"
                     if ip else "–")  # fmt: skip
            self_r = f"{s['self_r1_index']:.2f}" + (
                f" (store {s['self_r1_store']:.2f})" if "self_r1_store" in s else ""
            )
            lines.append(
                f"| {n:,} | {label} | **{s['first_answer_s']:.2f} s** | "
                + (f"{ready:.2f} s" if ready is not None else "not within the run")
                + f" | {s['first_query_ms']:.1f} ms | **{s['from_third']['p50_ms']:.1f}** / "
                f"{s['from_third']['p95_ms']:.1f} ms | "
                + (f"{s['query_encode']['p50_ms']:.1f} ms" if "query_encode" in s else "–")
                + f" | {s['store_answered']} | {alone} | {self_r} |"
            )
        f, e = r["faiss_ivf"], r["numpy_exact"]
        lines.append(
            f"| {n:,} | peer: FAISS IVF-Flat | build {f['build_s']} s, `read_index` "
            f"{f['read_index_s']} s | – | – | {f['p50_ms']:.2f} / {f['p95_ms']:.2f} ms (index alone) | – | – | "
            f"recall@10 {f['recall_at_10']:.4f} | – |"
        )
        lines.append(
            f"| {n:,} | peer: numpy exact scan | – | – | – | {e['p50_ms']:.1f} / {e['p95_ms']:.1f} ms | – | – | 1.0 | – |"
        )
    lines += ["", *_targets(data), ""]
    for n in SIZES:
        r = data.get(str(n), {})
        if "cli" in r:
            c = r["cli"]
            lines += [
                f'One-shot `sensorium search "…" --db DB -k 10` at {n:,} items, wall, start-up '
                f"included: **{c['search_s']} s** (median of {len(c['search_runs_s'])}: "
                f"{', '.join(str(s) for s in c['search_runs_s'])} s); of it, the imports alone "
                f'(`python -c "import sensorium.collection, sensorium.cli"`): {c["imports_s"]} s. '
                f"`items.ivf` at {n:,} items: {r['saved_mb']} MB; 1-minute load average "
                f"{r['load_avg']:.1f}.",
                "",
            ]
            if "baseline_cli" in r:
                b = r["baseline_cli"]
                lines += [f"The same with the code of `COLD_START_BASELINE` ({data['baseline']}), "
                          f"same run: **{b['search_s']} s**, imports {b['imports_s']} s.", ""]  # fmt: skip
        elif r:
            lines += [f"`items.ivf` at {n:,} items: {r['saved_mb']} MB; 1-minute load average "
                      f"{r['load_avg']:.1f}.", ""]  # fmt: skip
    return lines


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _targets(data: dict[str, Any]) -> list[str]:
    """Issue 26's targets against this run's figures."""
    out = ["Against the targets of issue 26 (items 1 and 2):", ""]
    small, big = data.get("100000", {}), data.get("1000000", {})
    for key, what in (("library_new", "never served"), ("library_saved", "with `items.ivf`")):
        if key in small:
            s = small[key]
            enc = s.get("query_encode", {}).get("p50_ms")
            out.append(
                f"- 100k, library default path ({what}), ≤ 10 ms p50 from the 3rd query: "
                f"{s['from_third']['p50_ms']:.1f} ms, {_met(s['from_third']['p50_ms'] <= 10)}"
                + (
                    f"; the query encoder alone takes {enc:.1f} ms of it in the same process"
                    if enc is not None
                    else ""
                )
                + f"; self-retrieval R@1 {s['self_r1_index']:.2f} against the store's "
                f"{s.get('self_r1_store', float('nan')):.2f}."
            )
    if "cli" in small:
        c = small["cli"]["search_s"]
        out.append(f"- 100k, one-shot CLI search ≤ 1.0 s wall: {c} s, {_met(c <= 1.0)} (imports "
                   f"alone {small['cli']['imports_s']} s).")  # fmt: skip
    if "serve_saved" in big:
        s = big["serve_saved"]
        ip = s["index_store_part"]
        out += [
            f"- 1M, start-up to the first answer ≤ 3 s (`serve()` from `items.ivf`): "
            f"{s['first_answer_s']:.2f} s, {_met(s['first_answer_s'] <= 3)}: imports and open "
            f"{s['import_open_s']:.2f} s, `serve()` {s['serve_s']:.2f} s, first query "
            f"{s['first_query_ms'] / 1000:.2f} s (the text model loads); trained instead: "
            f"{big['serve_trained']['serve_s']:.0f} s.",
            f"- 1M, first query ≤ 5 ms p50 (the index alone, nearest rows and their items): "
            f"{ip['p50_ms']:.2f} ms (the very first {s['index_first_store_part_ms']:.2f} ms), "
            f"{_met(ip['p50_ms'] <= 5)}; end to end {s['from_third']['p50_ms']:.1f} ms.",
            f"- 1M, recall@10 ≥ 0.95 against an exact scan: {ip['recall_at_10']:.4f}, "
            f"{_met(ip['recall_at_10'] >= 0.95)} (FAISS IVF-Flat alone: "
            f"{big['faiss_ivf']['recall_at_10']:.4f}).",
        ]
    return out
