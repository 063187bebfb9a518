"""The service's batched query encoder (service/state.py ``Batched``): concurrent callers'
texts encoded together give each caller the rows its own call would give."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from sensorium.engine import default_engine
from sensorium.service.state import Batched

TEXTS = ["a cat", "a bird singing", "someone says hello", "ein roter Hund", "un chat noir",
         "a rocket at night", "coffee", "犬", "a penguin on the ice", "music"]  # fmt: skip


def test_concurrent_callers_get_their_own_rows() -> None:
    encoder = default_engine().space.any_text
    alone = {t: encoder.encode([t])[0] for t in TEXTS}  # (384,) each, one call a text
    batched = Batched(encoder)
    calls: list[int] = []
    real = encoder.encode

    class Counting:
        dim = encoder.dim

        def encode(self, texts: list[str]) -> np.ndarray:
            calls.append(len(texts))
            return real(texts)

    batched.encoder = Counting()
    asks = [[t] for t in TEXTS * 4] + [TEXTS[:3], TEXTS[3:]]
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(batched.encode, asks))
    for texts, rows in zip(asks, got):
        assert rows.shape == (len(texts), 384)
        for t, row in zip(texts, rows):
            np.testing.assert_allclose(row, alone[t], atol=2e-5)
    assert sum(calls) == sum(len(a) for a in asks)  # every text once
    assert len(calls) < len(asks)  # and some together


def test_a_failure_reaches_every_caller_of_its_batch() -> None:
    gate = threading.Event()

    class Failing:
        dim = 384

        def encode(self, texts: list[str]) -> np.ndarray:
            gate.wait(5)
            if "bad" in texts:
                raise ValueError("bad text")
            return np.zeros((len(texts), 384), np.float32)

    batched = Batched(Failing())
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batched.encode, ["ok"])
        later = [pool.submit(batched.encode, [t]) for t in ("bad", "fine")]
        gate.set()
        assert first.result().shape == (1, 384)
        outcomes = []
        for f in later:
            try:
                outcomes.append(f.result().shape)
            except ValueError:
                outcomes.append("failed")
    assert "failed" in outcomes
    assert batched.encode(["after"]).shape == (1, 384)  # the next call goes on


def test_a_large_call_goes_alone() -> None:
    seen: list[int] = []

    class Recording:
        dim = 384

        def encode(self, texts: list[str]) -> np.ndarray:
            seen.append(len(texts))
            return np.zeros((len(texts), 384), np.float32)

    Batched(Recording(), most=4).encode(["a"] * 10)
    assert seen == [10]


def test_no_texts() -> None:
    class Empty:
        dim = 384

        def encode(self, texts: list[str]) -> np.ndarray:
            return np.zeros((len(texts), 384), np.float32)

    assert Batched(Empty()).encode([]).shape == (0, 384)
