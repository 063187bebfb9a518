from __future__ import annotations

import numpy as np

from sensorium.eval.metrics import normalize_text, recall_at_k, word_errors


def test_normaliser() -> None:
    assert (
        normalize_text("Press 1, then the # key. Mr. O'Neil!")
        == "press one then the pound key mister oneil"
    )


def test_word_errors() -> None:
    assert word_errors("hello big world", "Hello, world!") == (1, 3)
    assert word_errors("a b", "a b c") == (1, 2)


def test_recall() -> None:
    sim = np.array([[0.9, 0.1], [0.8, 0.5]])  # query 1's right answer is ranked second
    r = recall_at_k(sim, ks=(1, 2))
    assert r["R@1"] == 0.5 and r["R@2"] == 1.0


def test_numbers_compare_as_words() -> None:
    assert normalize_text("11. The 20th, 1st and 30") == "eleven the twentieth first and thirty"
    assert word_errors("eleventh", "11th") == (0, 1)
