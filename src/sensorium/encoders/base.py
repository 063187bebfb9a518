"""The encoder interface, and ONNX Runtime session options shared by every encoder."""

from __future__ import annotations

import os
from typing import Protocol, TypeVar

import numpy as np
import onnxruntime as ort

__all__ = ["Encoder", "l2_normalize", "onnx_session"]

T = TypeVar("T")


class Encoder(Protocol[T]):
    """One job: a batch of inputs -> an (N, dim) float32 array, rows L2-normalised."""

    dim: int

    def encode(self, batch: list[T]) -> np.ndarray: ...


def l2_normalize(x: np.ndarray, axis: int = -1) -> np.ndarray:
    norm = np.linalg.norm(x, axis=axis, keepdims=True)
    return (x / np.maximum(norm, 1e-12)).astype(np.float32)


def onnx_session(path: str | os.PathLike[str]) -> ort.InferenceSession:
    """A CPU session; ``SENSORIUM_THREADS`` caps intra-op threads (default: all cores)."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    threads = int(os.environ.get("SENSORIUM_THREADS", "0"))
    if threads > 0:
        opts.intra_op_num_threads = threads
    opts.log_severity_level = 3  # ORT's warnings about unused initialisers are noise
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
