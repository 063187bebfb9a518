"""Ingest on Ray against the local loop, on the same machine and files in one run; what each
file costs in each stage, what N workers would reach on paper, and a collection on S3.

    python -m benchmarks.ray_ingest          # prints the markdown (RAY_BENCH_FILES=2000)

Files: Tux Paint stamps (DATA.md), hard-linked under several folders until there are
``FILES`` of them (each link is its own path, so each is decoded and encoded). The local
ingest and the Ray ingest each write a fresh collection, in turn, best of ``REPEAT``. Ray runs a local cluster of this
machine's CPUs, started before the clock starts (its start-up is reported on its own).
S3: a moto server on 127.0.0.1 (an S3-compatible store spoken to over HTTP).
"""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

NAME = "ray_ingest"
FILES = int(os.environ.get("RAY_BENCH_FILES", "2000"))
SAMPLE = 128  # files timed stage by stage
BATCH = 64  # files per embed call and per commit (the ingest default)
S3_FILES = 64
REPEAT = int(os.environ.get("RAY_BENCH_REPEAT", "2"))  # turns of each ingest, best of
QUERIES = ["a cat", "a bird", "an elephant", "a penguin", "a fish", "a horse", "a snake",
           "a frog", "a dinosaur", "a lion"]  # fmt: skip


def _folder(root: Path, n: int) -> Path:
    from sensorium.eval.datasets import tuxpaint_stamps

    stamps = [s.image for s in tuxpaint_stamps()]
    folder = root / "stamps"
    for i in range(n):
        src = stamps[i % len(stamps)]
        dst = folder / f"copy{i // len(stamps)}" / f"{i:05d}-{src.name}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, dst)
    return folder


def _stages(folder: Path, root: Path) -> dict[str, float]:
    """Milliseconds per file in each stage, on ``SAMPLE`` files, one process, warm models."""
    from sensorium.engine import default_engine
    from sensorium.perceive.inputs import expand_paths
    from sensorium.store import LanceStore
    from sensorium.store.ingest import Embedder, commit, decode, image_side, plan

    space = default_engine().space
    store = LanceStore(root / "stages")
    files = expand_paths([folder])[:SAMPLE]
    t = time.perf_counter()
    planned = plan(store, space, files, [folder])
    plan_ms = (time.perf_counter() - t) * 1000 / len(files)
    embed = Embedder(space)
    embed(decode(planned.todo[:4], image_side(space))[0])  # models loaded before the clock
    decode_s = embed_s = commit_s = 0.0
    for s in range(0, len(planned.todo), BATCH):
        t = time.perf_counter()
        decoded, failed = decode(planned.todo[s : s + BATCH], image_side(space))
        decode_s += time.perf_counter() - t
        t = time.perf_counter()
        outcomes = embed(decoded) + failed
        embed_s += time.perf_counter() - t
        t = time.perf_counter()
        commit(store, outcomes, planned.report)
        commit_s += time.perf_counter() - t
    n = len(planned.todo)
    return {"plan_ms": plan_ms, "decode_ms": decode_s * 1000 / n,
            "embed_ms": embed_s * 1000 / n, "commit_ms": commit_s * 1000 / n}  # fmt: skip


def _throughput(folder: Path, root: Path) -> dict[str, Any]:
    """Local loop and Ray in turn, ``REPEAT`` times each (best of): the machine is shared, and
    turns spread other load evenly over both."""
    import ray

    from sensorium.distributed import RayOptions, ray_ingest
    from sensorium.distributed.ray_ingest import _sizes
    from sensorium.engine import default_engine
    from sensorium.perceive.inputs import expand_paths
    from sensorium.store import LanceStore, ingest

    space = default_engine().space
    files = expand_paths([folder])
    t = time.perf_counter()
    ray.init(num_cpus=max(2, os.cpu_count() or 1), include_dashboard=False,
             logging_level="WARNING", log_to_driver=False)  # fmt: skip
    start = time.perf_counter() - t
    local_s, ray_s = [], []
    try:
        workers, threads = _sizes(ray, RayOptions())
        for i in range(REPEAT):
            local = ingest(LanceStore(root / f"local{i}"), space, files, [folder], batch_size=BATCH)
            dist = ray_ingest(LanceStore(root / f"ray{i}"), space, files, [folder],
                              batch_size=BATCH)  # fmt: skip
            assert dist.added == local.added == len(files), (dist.to_json(), local.to_json())
            local_s.append(local.seconds)
            ray_s.append(dist.seconds)
    finally:
        ray.shutdown()
    return {
        "files": len(files),
        "local_runs_s": local_s,
        "ray_runs_s": ray_s,
        "local_s": min(local_s),
        "ray_s": min(ray_s),
        "ray_start_s": start,
        "local_files_per_s": len(files) / min(local_s),
        "ray_files_per_s": len(files) / min(ray_s),
        "ratio": min(local_s) / min(ray_s),
        "workers": workers,
        "threads_per_worker": threads,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _s3(folder: Path, root: Path) -> dict[str, Any]:
    """Ingest and search on a moto S3 server against a folder: seconds and latencies."""
    import boto3
    from moto.server import ThreadedMotoServer

    from sensorium import config
    from sensorium.engine import default_engine
    from sensorium.perceive.inputs import expand_paths
    from sensorium.search import Query, search
    from sensorium.store import LanceStore, ingest

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        boto3.client("s3").create_bucket(Bucket="bench")
        space = default_engine().space
        files = expand_paths([folder])[:S3_FILES]
        out: dict[str, Any] = {"files": len(files)}
        for name, uri in (("folder", str(root / "s3-local")), ("s3", "s3://bench/coll")):
            store = LanceStore(uri, config.storage_options(uri))
            out[f"{name}_ingest_s"] = ingest(store, space, files, [folder]).seconds
            search(store, space, Query(text=QUERIES[0]), 10)  # warm
            times = []
            for q in QUERIES * 2:
                t = time.perf_counter()
                search(store, space, Query(text=q), 10)
                times.append((time.perf_counter() - t) * 1000)
            out[f"{name}_search_p50_ms"] = statistics.median(times)
            out[f"{name}_search_max_ms"] = max(times)
        return out
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _on_paper(stages: dict[str, float]) -> list[dict[str, float]]:
    """Files/s that N embedding workers would reach (each decoding and embedding its own
    files at this CPU's per-file cost), against the one writer's ceiling (commits only)."""
    per_worker = 1000 / (stages["decode_ms"] + stages["embed_ms"])
    writer = 1000 / stages["commit_ms"]
    return [{"workers": n, "files_per_s": min(n * per_worker, writer),
             "writer_bound": n * per_worker >= writer} for n in (1, 2, 4, 8, 16, 32, 64)]  # fmt: skip


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = _folder(root, FILES)
        stages = _stages(folder, root)
        data: dict[str, Any] = {"stages": stages, "throughput": _throughput(folder, root)}
        data["on_paper"] = _on_paper(stages)
        data["writer_files_per_s"] = 1000 / stages["commit_ms"]
        data["workers_to_writer_bound"] = (stages["decode_ms"] + stages["embed_ms"]) / stages[
            "commit_ms"
        ]
        data["s3"] = _s3(folder, root)
        return data


def _runs(seconds: list[float]) -> str:
    return ", ".join(f"{x:.1f}" for x in seconds)


def markdown(data: dict[str, Any]) -> list[str]:
    s, t, s3 = data["stages"], data["throughput"], data["s3"]
    lines = [
        "## Ingest on Ray",
        "",
        f"{t['files']} Tux Paint stamps, batches of {BATCH}; Ray: a local cluster of this "
        f"machine's CPUs ({t['workers']} embedding actor(s), {t['threads_per_worker']} ONNX "
        f"thread(s) each), started in {t['ray_start_s']:.1f} s before the clock.",
        "",
        "| ingest | seconds | files/s |",
        "|---|---|---|",
        f"| local loop | {t['local_s']:.1f} (runs: {_runs(t['local_runs_s'])}) | "
        f"{t['local_files_per_s']:.1f} |",
        f"| Ray Data | {t['ray_s']:.1f} (runs: {_runs(t['ray_runs_s'])}) | "
        f"{t['ray_files_per_s']:.1f} |",
        f"| ratio (Ray / local throughput) | {t['ratio']:.2f} | |",
        "",
        f"Per file, one process, warm models ({SAMPLE} files): plan {s['plan_ms']:.2f} ms, "
        f"decode {s['decode_ms']:.1f} ms, embed {s['embed_ms']:.1f} ms, "
        f"commit {s['commit_ms']:.2f} ms.",
        "",
        "On paper: N workers, each at this CPU's decode + embed cost, against the single "
        f"writer's ceiling of {data['writer_files_per_s']:.0f} files/s (commits only), which "
        f"N ≈ {data['workers_to_writer_bound']:.0f} workers reach.",
        "",
        "| workers | files/s | bound by |",
        "|---|---|---|",
    ]
    for row in data["on_paper"]:
        bound = "the writer" if row["writer_bound"] else "the workers"
        lines.append(f"| {row['workers']} | {row['files_per_s']:.0f} | {bound} |")
    lines += [
        "",
        f"Collection on S3 (moto server on 127.0.0.1), {s3['files']} stamps, text search k=10:",
        "",
        "| where | ingest s | search p50 ms | search max ms |",
        "|---|---|---|---|",
        f"| folder | {s3['folder_ingest_s']:.1f} | {s3['folder_search_p50_ms']:.1f} | "
        f"{s3['folder_search_max_ms']:.1f} |",
        f"| s3:// | {s3['s3_ingest_s']:.1f} | {s3['s3_search_p50_ms']:.1f} | "
        f"{s3['s3_search_max_ms']:.1f} |",
    ]
    return lines


if __name__ == "__main__":
    import json

    result = run()
    print(json.dumps(result, indent=2))
    print("\n".join(markdown(result)))
