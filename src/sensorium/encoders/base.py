"""The encoder interface, and ONNX Runtime session options shared by every encoder."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import onnxruntime as ort

__all__ = [
    "ALL_CORES", "Encoder", "Threads", "l2_normalize", "limit_blas", "onnx_session", "trim_heap",
]

T = TypeVar("T")


class Encoder(Protocol[T]):
    """One job: a batch of inputs -> an (N, dim) float32 array, rows L2-normalised."""

    dim: int

    def encode(self, batch: list[T]) -> np.ndarray: ...


def l2_normalize(x: np.ndarray, axis: int = -1) -> np.ndarray:
    norm = np.linalg.norm(x, axis=axis, keepdims=True)
    return (x / np.maximum(norm, 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class Threads:
    """How many threads a model's kernels use, and whether idle ones spin.

    ``count`` 0: the runtime's default (one per core). ``spin``: ONNX Runtime's workers
    busy-wait between kernels. Off by default: on the 2-core machines measured
    (benchmarks/cores.py), spinning was no faster alone and 1.5-2.4x slower beside another
    busy process or a second request, whose cores it takes for nothing.
    """

    count: int = 0
    spin: bool = False

    def resolve(self, default: int) -> int:
        """The thread count, ``default`` where none was chosen."""
        return self.count if self.count > 0 else default


ALL_CORES = Threads()  # the default: one thread per core, idle threads sleep


def limit_blas(threads: Threads) -> None:
    """numpy's BLAS to ``threads``' count (one per core where none is chosen), for the whole
    process: the engine's setting, not whatever the environment left (Ray's workers start
    with ``OMP_NUM_THREADS=1`` where the driver has a thread per core). Called where an engine
    or a Ray worker is made: the edges."""
    from threadpoolctl import threadpool_limits  # numpy must be loaded first: it is, above

    threadpool_limits(threads.resolve(os.cpu_count() or 1), user_api="blas")


def onnx_session(
    path: str | os.PathLike[str], threads: Threads = ALL_CORES
) -> ort.InferenceSession:
    """A CPU session with every graph optimisation, ``threads`` intra-op threads."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads.count > 0:
        opts.intra_op_num_threads = threads.count
    if not threads.spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    # Memory patterns pre-plan one block per input shape and keep each in the arena: YAMNet over
    # batches of 20, 21 and 256 patches held 470 MB without them 280, EfficientNet 134 MB 116;
    # the outputs are the same and no model ran slower (measured on 2 cores).
    opts.enable_mem_pattern = False
    opts.log_severity_level = 3  # ORT's warnings about unused initialisers are noise
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library is not glibc."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_TRIM = _malloc_trim()


def trim_heap() -> None:
    """Hand the C heap's free pages back to the system. Whisper's and ONNX Runtime's buffers
    are freed after each run, but glibc keeps the pages and threads' arenas fragment: before a
    video's last model loads, this gave back 65-80 MB (``benchmarks/videomem.py``). A few
    milliseconds; nothing where the C library is not glibc."""
    if _TRIM is not None:
        _TRIM(0)
