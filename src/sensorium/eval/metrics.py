"""Metrics: word and character error rates with a plain English normaliser, retrieval recall."""

from __future__ import annotations

import re

import numpy as np

__all__ = ["char_errors", "macro_f1", "normalize_text", "recall_at_k", "word_errors"]

# Numbers are compared as words ("11" and "eleven" are the same answer): 0-20, the tens, and
# their ordinals ("11th" -> "eleventh"). Enough for the prompts we measure on.
_WORDS = [  # 0-20
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
]  # fmt: skip
_TENS = {
    "30": "thirty",
    "40": "forty",
    "50": "fifty",
    "60": "sixty",
    "70": "seventy",
    "80": "eighty",
    "90": "ninety",
    "100": "hundred",
}
_NUMBERS = {**{str(i): w for i, w in enumerate(_WORDS)}, **_TENS}
_ORDINAL_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def _ordinal(word: str) -> str:
    if word in _ORDINAL_IRREGULAR:
        return _ORDINAL_IRREGULAR[word]
    return word[:-1] + "ieth" if word.endswith("y") else word + "th"


def _number_word(token: str) -> str:
    m = re.fullmatch(r"(\d+)(st|nd|rd|th)?", token)
    if not m or m.group(1) not in _NUMBERS:
        return token
    word = _NUMBERS[m.group(1)]
    return _ordinal(word) if m.group(2) else word


_SPELLING = {"mr": "mister", "mrs": "missus", "ok": "okay", "#": "pound"}


def normalize_text(text: str) -> str:
    """Lower-case, spell out 0-20 and tens and a few abbreviations, drop punctuation."""
    text = text.lower().replace("-", " ")
    words = re.findall(r"[a-z0-9']+|#", text)
    return " ".join(_SPELLING.get(w, _number_word(w)) for w in words).replace("'", "")


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


def char_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference characters) after normalisation; CER = sum(edits) / sum(chars)."""
    ref, hyp = list(normalize_text(reference)), list(normalize_text(hypothesis))
    return _edit_distance(ref, hyp), len(ref)


def recall_at_k(similarity: np.ndarray, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """similarity (Q, T), the right target of query i being i -> {"R@k": fraction}."""
    right = similarity[np.arange(len(similarity)), np.arange(len(similarity))][:, None]
    rank = (similarity > right).sum(1)  # (Q,) 0 = best
    out = {f"R@{k}": float((rank < k).mean()) for k in ks}
    out["median_rank"] = float(np.median(rank) + 1)
    out["mAP"] = float((1.0 / (rank + 1)).mean())  # one relevant target: AP = 1 / rank
    return out


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Mean F1 over the classes present in ``truth`` (N,) (a class never true is left out,
    as scikit-learn does with ``labels=`` set to the true classes)."""
    scores = []
    for c in np.unique(truth):
        tp = int(((predicted == c) & (truth == c)).sum())
        fp = int(((predicted == c) & (truth != c)).sum())
        fn = int(((predicted != c) & (truth == c)).sum())
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores)) if scores else 0.0
