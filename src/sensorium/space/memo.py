"""Texts' vectors remembered by the space that encoded them: a service asks for the same
queries, label names and transcript lines again and again, and each costs about 10 ms to
encode on 2 cores. The memo lives with its encoder (``SharedSpace.memo``), so it goes when
the engine that owns the space goes, and another model never answers from it."""

from __future__ import annotations

import threading

import numpy as np

from sensorium.encoders.base import Encoder

__all__ = ["MEMO_SIZE", "TextMemo"]

MEMO_SIZE = 50_000  # texts (1.5 KB each); past it the memo starts again


class TextMemo:
    def __init__(self, encoder: Encoder[str], size: int = MEMO_SIZE) -> None:
        self.encoder = encoder
        self.size = size
        self._memo: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """(N,) -> (N, 384): what the encoder gives, each text encoded once."""
        with self._lock:
            known = {t: self._memo[t] for t in texts if t in self._memo}
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:  # encoded outside the lock: two threads may both encode a new text, once
            fresh = dict(zip(todo, self.encoder.encode(todo)))
            known.update(fresh)
            with self._lock:
                if len(self._memo) + len(fresh) > self.size:
                    self._memo.clear()
                self._memo.update(fresh)
        if not texts:
            return np.zeros((0, 384), np.float32)
        return np.stack([known[t] for t in texts])

    def __len__(self) -> int:
        return len(self._memo)
