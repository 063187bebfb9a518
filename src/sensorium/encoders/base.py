"""The encoder interface, and ONNX Runtime session options shared by every encoder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import onnxruntime as ort

__all__ = ["ALL_CORES", "Encoder", "Threads", "l2_normalize", "onnx_session"]

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
    opts.log_severity_level = 3  # ORT's warnings about unused initialisers are noise
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
