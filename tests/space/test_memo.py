"""The texts' memo (space/memo.py) over the real text encoder: the same vectors, bit for bit,
as encoding every time; each text encoded once; bounded."""

from __future__ import annotations

import numpy as np

from sensorium.encoders.text import TextEncoder
from sensorium.space.memo import TextMemo


class _Counted:
    """The real encoder, counting what it is asked to encode."""

    def __init__(self) -> None:
        self.encoder = TextEncoder()
        self.asked: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.asked += texts
        return self.encoder.encode(texts)


def test_the_memo_gives_the_encoders_vectors_once() -> None:
    counted = _Counted()
    memo = TextMemo(counted, size=3)  # type: ignore[arg-type]
    texts = ["a cat", "a dog", "a cat"]
    first = memo.encode(texts)  # (3, 384)
    assert counted.asked == ["a cat", "a dog"]  # a text twice in one call: encoded once
    assert np.array_equal(first, counted.encoder.encode(texts))  # the float path, bitwise
    assert np.array_equal(memo.encode(["a dog"]), first[1:2]) and counted.asked[-1] == "a dog"
    assert len(counted.asked) == 2  # remembered: not asked again
    memo.encode(["a bird", "a fish"])  # past its size: it starts again
    assert len(memo) == 2 and memo.encode([]).shape == (0, 384)
