"""Metrics: word and character error rates with a plain English normaliser, retrieval recall."""

from __future__ import annotations

import re

import numpy as np

__all__ = ["normalize_text", "recall_at_k", "word_errors"]

_NUMBERS = {
    "0": "zero",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
    "10": "ten",
}
_SPELLING = {"mr": "mister", "mrs": "missus", "ok": "okay", "#": "pound"}


def normalize_text(text: str) -> str:
    """Lower-case, spell out 0-10 and a few abbreviations, drop punctuation (keep ')."""
    text = text.lower().replace("-", " ")
    words = re.findall(r"[a-z0-9']+|#", text)
    return " ".join(_SPELLING.get(w, _NUMBERS.get(w, w)) for w in words).replace("'", "")


def _edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference words) after normalisation; WER = sum(edits) / sum(words)."""
    ref, hyp = normalize_text(reference).split(), normalize_text(hypothesis).split()
    return _edit_distance(ref, hyp), len(ref)


def recall_at_k(similarity: np.ndarray, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """similarity (Q, T), the right target of query i being i -> {"R@k": fraction}."""
    right = similarity[np.arange(len(similarity)), np.arange(len(similarity))][:, None]
    rank = (similarity > right).sum(1)  # (Q,) 0 = best
    out = {f"R@{k}": float((rank < k).mean()) for k in ks}
    out["median_rank"] = float(np.median(rank) + 1)
    return out
