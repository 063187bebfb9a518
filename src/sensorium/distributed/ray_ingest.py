"""Ingest on Ray Data: the same stages as the local loop, with the middle ones on workers.

    driver    plan (the store's states)                              store.touch
    Ray Data  from the planned paths -> decode (tasks) -> embed (actor pool: each actor
              holds one ``Embedder``, the space's models loaded once) -> pickled outcomes
    driver    commit ``batch_size`` files at a time (one writer, one store commit each),
              then finish (sync, housekeeping)

So a killed driver resumes like a local ingest: every commit is a whole batch, and the next
run plans again from what the store holds. Workers read files by path, so the files must be
at the same path on every node (one machine, or a shared file system).

On a small machine the actor pool is bounded so that actors never hold every CPU: read and
decode tasks need one too, or the pipeline waits for ever (a known Ray Data hang).
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sensorium.encoders.base import Threads, limit_blas
from sensorium.errors import UsageError
from sensorium.media.names import fs_path
from sensorium.space import SharedSpace, SpaceOptions
from sensorium.store.base import Store
from sensorium.store.ingest import (
    Embedder,
    IngestReport,
    Outcome,
    Todo,
    commit,
    decode,
    finish,
    image_side,
    plan,
)

__all__ = ["RayOptions", "ray_ingest"]

DECODE_SHARE = 0.25  # of the cluster's CPUs left to read and decode tasks


@dataclass(frozen=True)
class RayOptions:
    # A running cluster to join ("auto", "HOST:6379", "ray://HOST:10001"); None: start a local
    # one sized to this machine (and stop it after the ingest). When the process is already
    # connected to Ray, that cluster is used and left running.
    address: str | None = None
    workers: int | None = None  # embedding actors; None: 3/4 of the CPUs, one CPU kept free
    worker_cpus: float = 1.0  # CPUs each embedding actor reserves
    decode_cpus: float = 1.0  # CPUs each read-and-decode task reserves
    # ONNX Runtime threads per actor; None: the cluster's CPUs shared among the actors
    threads: int | None = None
    embed_class: type[Embedder] = Embedder  # what each actor holds (tests swap in a variant)

    def verify(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise UsageError("workers must be at least 1")
        if self.worker_cpus <= 0 or self.decode_cpus <= 0:
            raise UsageError("worker_cpus and decode_cpus must be above 0")
        if self.threads is not None and self.threads < 1:
            raise UsageError("threads must be at least 1")


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as e:
        raise UsageError("ingest on Ray needs ray[data]: pip install 'sensorium[ray]'") from e
    return ray


@contextmanager
def _connected(options: RayOptions) -> Iterator[Any]:
    """Ray, connected: the running connection, the cluster at ``address``, or a local one."""
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    if options.address:
        ray.init(address=options.address, logging_level="WARNING", log_to_driver=False)
    else:
        # at least 2 logical CPUs: an actor and a decoding task must both fit (even on 1 core)
        ray.init(num_cpus=max(2, os.cpu_count() or 1), include_dashboard=False,
                 logging_level="WARNING", log_to_driver=False)  # fmt: skip
    try:
        yield ray
    finally:
        ray.shutdown()


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Ray Data logs each run's plan and timing: the caller shows progress (``on_done``)."""
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _sizes(ray: Any, options: RayOptions) -> tuple[int, int]:
    """(embedding actors, ONNX threads each): actors never take every CPU (decode needs one)."""
    cpus = float(ray.cluster_resources().get("CPU", 0))
    if cpus < options.worker_cpus + options.decode_cpus:
        raise UsageError(
            f"the Ray cluster has {cpus:g} CPUs: an embedding actor needs {options.worker_cpus:g} "
            f"and a decoding task {options.decode_cpus:g} at the same time"
        )
    fit = math.floor(cpus * (1 - DECODE_SHARE) / options.worker_cpus)
    most = max(1, math.floor((cpus - options.decode_cpus) / options.worker_cpus))
    workers = options.workers or max(1, min(fit, most))
    threads = options.threads or max(1, int(cpus // workers))
    return workers, threads


def _todo_rows(todo: list[Todo]) -> list[dict[str, Any]]:
    """Planned files as Arrow-safe rows: a path as its stored text (a name that is not UTF-8
    is escaped there; ``fs_path`` turns it back)."""
    return [{"path": t.text, "size": t.size, "mtime": t.mtime, "sha256": t.sha256,
             "known": t.known, "folders": list(t.folders)} for t in todo]  # fmt: skip


def _decode_rows(batch: dict[str, np.ndarray], side: int | None) -> dict[str, np.ndarray]:
    """A Ray Data task: planned rows -> pickled (decoded file | failed outcome)."""
    columns = (batch[c] for c in ("path", "size", "mtime", "sha256", "known", "folders"))
    todo = [Todo(fs_path(str(p)), int(s), float(m), str(h), bool(k), tuple(str(x) for x in f))
            for p, s, m, h, k, f in zip(*columns)]  # fmt: skip
    decoded, failed = decode(todo, side)
    blobs = [pickle.dumps(("decoded", d)) for d in decoded]
    blobs += [pickle.dumps(("failed", o)) for o in failed]
    return {"blob": np.array(blobs, dtype=object)}


class _EmbedActor:
    """A Ray Data actor: one ``Embedder`` (the models load once per actor)."""

    def __init__(self, embed_class: type[Embedder], options: SpaceOptions, fps: float) -> None:
        limit_blas(options.threads)  # as the driver's engine does, not Ray's one thread
        self.embed = embed_class(options, fps)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        parts = [pickle.loads(b) for b in batch["blob"]]
        outcomes: list[Outcome] = self.embed([x for tag, x in parts if tag == "decoded"])
        outcomes += [x for tag, x in parts if tag == "failed"]
        return {"outcome": np.array([pickle.dumps(o) for o in outcomes], dtype=object)}


def _outcomes(ray: Any, todo: list[Todo], space: SharedSpace, batch_size: int, fps: float,
              options: RayOptions) -> Iterator[list[Outcome]]:  # fmt: skip
    """Ray Data's pipeline, streamed back ``batch_size`` outcomes at a time."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.verbose_progress = False
    workers, threads = _sizes(ray, options)
    # the thread settings travel with the space's options (no environment variable): a count
    # given here or chosen by the engine wins, else the actors share the cluster's CPUs
    chosen = space.options.threads
    count = options.threads or chosen.count or threads
    actor_options = replace(space.options, threads=Threads(count, chosen.spin))
    ds = ray.data.from_items(_todo_rows(todo), override_num_blocks=max(1, len(todo) // batch_size))
    ds = ds.map_batches(_decode_rows, fn_kwargs={"side": image_side(space)},
                        batch_size=batch_size, num_cpus=options.decode_cpus)  # fmt: skip
    ds = ds.map_batches(
        _EmbedActor,
        fn_constructor_args=(options.embed_class, actor_options, fps),
        batch_size=batch_size,
        num_cpus=options.worker_cpus,
        concurrency=workers,
    )
    for batch in ds.iter_batches(batch_size=batch_size, batch_format="numpy"):
        yield [pickle.loads(b) for b in batch["outcome"]]


def ray_ingest(
    store: Store,
    space: SharedSpace,
    paths: Iterable[Path],
    roots: list[Path],
    sync: bool = False,
    batch_size: int = 64,
    video_fps: float = 1.0,
    on_planned: Callable[[int], None] = lambda _: None,
    on_done: Callable[[int], None] = lambda _: None,
    options: RayOptions | None = None,
    exclude: Sequence[str] = (),  # gitignore patterns of files left out (``store.ignore``)
) -> IngestReport:
    """As ``store.ingest.ingest``, with decode and embed on a Ray cluster: the same items, the
    same report, the same resumption after a kill, the same files left out (``exclude`` and
    ``.sensoriumignore``: ``plan`` decides). ``batch_size`` files are embedded together on a
    worker and committed together by the driver."""
    options = options or RayOptions()
    options.verify()
    t0 = time.perf_counter()
    planned = plan(store, space, paths, roots, sync, exclude)
    store.touch(planned.touched)
    on_planned(len(planned.todo))
    if planned.todo:
        with _connected(options) as ray, _quiet("ray.data"):
            for outcomes in _outcomes(ray, planned.todo, space, batch_size, video_fps, options):
                commit(store, outcomes, planned.report)
                on_done(len(outcomes))
    report = finish(store, planned)
    report.seconds = time.perf_counter() - t0
    return report
