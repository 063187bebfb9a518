"""The serving index's keyword part: BM25 over the items' keywords in memory, ranked as
LanceDB's full-text search ranks them (``LanceStore.keyword``), so that a long-lived process
never asks LanceDB on a query.

What the store's query is (store/lance.py, ``keyword_query``), term by term:

- the words by stem: the ``words`` index's tokens of the text, each scored by BM25;
- the words as written: the ``verbatim`` index's tokens, likewise, the two scores added;
- each word of five letters or more by spelling (``fuzzy_edits``), at ``FUZZY_BOOST`` times
  the BM25 score of every ``verbatim`` term within that many edits (Levenshtein, by
  character; the first ``MAX_EXPANSIONS`` of them in byte order, as an FST stream gives them).

BM25 as Lance computes it (lance-index ``scorer.rs``): ``idf * (K1 + 1) * tf / (tf + K1 *
(1 - B + B * length / avgdl))`` with ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``, over
every document of the index, in float32; a token asked twice counts twice. Documents are
tokenised by Lance itself (``lance.tokenize``, with each index's own settings as the store
reports them), so stems, folding and splitting are LanceDB's by construction. LanceDB's
index keeps counting a row deleted or replaced in its statistics (N, df, the mean length)
until a compaction remaps it; so do these, while LanceDB's index reports more documents
than the table has rows (``LanceStore.keyword_docs``), and count the live rows only once
it reports as many (tested: the same scores either way, to float32 precision). Rows
written since LanceDB last refreshed its index are searched there by a scan, here as any
other.

Why not a library: ``bm25s`` keeps precomputed scores in a sparse matrix, built once
(every commit would rebuild it; no misspelt words); ``tantivy`` keeps document lengths in
one byte (its fieldnorms), so its scores, and their ties, are not LanceDB's. Here the index
keeps raw term counts and lengths, so a commit only appends the new rows' postings and
recounts document frequencies (a ``bincount``); numpy scores a query in well under a
millisecond at 100,000 rows, and rapidfuzz finds the misspelt words' neighbours.

Postings are kept by label (the serving index's append-only row numbers, search/vectors.py):
a list of segments, each sorted by term; a new version's rows are one more segment, and
segments are merged past ``MAX_SEGMENTS``.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sensorium.store.base import FUZZY_EDITS, fuzzy_edits

__all__ = ["FILE_NAME", "FUZZY_BOOST", "Keywords", "supported"]

FILE_NAME = "items.keywords"  # beside the tables and ``items.ivf``: ``Keywords.save``
FORMAT = 1

K1 = np.float32(1.2)  # BM25's parameters, Lance's
B = np.float32(0.75)
MAX_EXPANSIONS = 50  # terms a misspelt word expands to (LanceDB's MatchQuery default)
MAX_SEGMENTS = 8
MAX_EDITS = max(edits for _, edits in FUZZY_EDITS)
FUZZY_BOOST = 0.3  # store/lance.py's (kept equal by tests/search/test_keywords_memory.py)
WORD = re.compile(r"[\w']+")  # how LanceStore.keyword splits a text into words
# Tokenizer settings that act token by token, or not at all: the only ones this index
# reproduces (anything else and ``supported`` says no: the store answers).
_SETTINGS = ("base_tokenizer", "language", "max_token_length", "lower_case", "stem",
             "remove_stop_words", "custom_stop_words", "ascii_folding")  # fmt: skip
_OFF = ("split_identifiers", "split_on_numerics", "preserve_original", "index_operators")


def supported(details: dict[str, Any]) -> bool:
    """Whether an index built with these settings (LanceDB's ``index_details``) is one this
    module tokenises as LanceDB does."""
    return (
        details.get("base_tokenizer", "simple") == "simple"
        and details.get("lance_tokenizer", "text") in ("text", None)
        and not any(details.get(k) for k in _OFF)
        and not details.get("with_position", False)
    )


def tokenizer_options(details: dict[str, Any]) -> dict[str, Any]:
    return {k: details[k] for k in _SETTINGS if k in details}


def tokenize(texts: Iterable[str | None], options: dict[str, Any]) -> list[list[str]]:
    """Each text's tokens, as LanceDB's index makes them (``lance.tokenize``)."""
    import lance

    return [[t.text for t in lance.tokenize(x, **options)] if x else [] for x in texts]


@dataclass(frozen=True)
class _Segment:
    """Postings of some labels, sorted by term: ``terms`` (T,) ascending unique term ids,
    ``bounds`` (T + 1,) where each term's postings start, ``labels`` (P,), ``counts`` (P,)
    how often the term is in the label's document, ``term_of`` (P,) each posting's term."""

    terms: np.ndarray
    bounds: np.ndarray
    labels: np.ndarray
    counts: np.ndarray
    term_of: np.ndarray

    @staticmethod
    def of(labels: np.ndarray, term_ids: np.ndarray) -> _Segment:
        """(P,) labels and term ids, one pair per token -> postings with counts."""
        if len(labels) == 0:
            e = np.zeros(0, np.int64)
            return _Segment(e, np.zeros(1, np.int64), e, np.zeros(0, np.float32), e)
        span = int(labels.max()) + 1
        keys, counts = np.unique(term_ids * span + labels, return_counts=True)
        term_of, labels = np.divmod(keys, span)
        terms, starts = np.unique(term_of, return_index=True)
        bounds = np.append(starts, len(keys)).astype(np.int64)
        return _Segment(terms, bounds, labels, counts.astype(np.float32), term_of)

    @staticmethod
    def merged(parts: Sequence[_Segment]) -> _Segment:
        labels = np.concatenate([p.labels for p in parts])
        term_of = np.concatenate([p.term_of for p in parts])
        counts = np.concatenate([p.counts for p in parts])
        order = np.lexsort((labels, term_of))
        labels, term_of, counts = labels[order], term_of[order], counts[order]
        terms, starts = np.unique(term_of, return_index=True)
        return _Segment(terms, np.append(starts, len(labels)).astype(np.int64), labels,
                        counts, term_of)  # fmt: skip

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        i = int(np.searchsorted(self.terms, term))
        if i == len(self.terms) or self.terms[i] != term:
            return self.labels[:0], self.counts[:0]
        a, b = self.bounds[i], self.bounds[i + 1]
        return self.labels[a:b], self.counts[a:b]


class _Column:
    """One index's postings (``words`` by stem, or ``verbatim``), labels ``[0, n)``."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.vocab: dict[str, int] = {}
        self.terms: list[str] = []  # by id
        self.lengths = np.zeros(0, np.float32)  # (n,) tokens of each label's document
        self.segments: list[_Segment] = []
        self.df_all = np.zeros(0, np.int64)  # (V,) labels holding each term
        self.total = 0.0  # tokens in all labels' documents
        # BM25's statistics: of every label (``extend``), or of some (``count_only``)
        self.df = self.df_all  # (V,) documents holding each term
        self.docs = 0
        self.avgdl = np.float32(1.0)
        # The terms a misspelt word may be (``near``): those with at most ``MAX_EDITS``
        # characters other than letters (a word to spell is letters), with their lengths and
        # the set of their characters as bits (``_bits``), to rule most out at once.
        self.spelt: list[str] = []
        self.spelt_length = np.zeros(0, np.int32)  # (S,)
        self.spelt_bits = np.zeros(0, np.uint64)  # (S,)

    @property
    def n(self) -> int:
        return len(self.lengths)

    def copy(self) -> _Column:
        out = _Column(self.options)
        out.vocab, out.terms = dict(self.vocab), list(self.terms)
        out.lengths, out.segments = self.lengths, list(self.segments)
        out.df_all, out.total = self.df_all, self.total
        out.df, out.docs, out.avgdl = self.df, self.docs, self.avgdl
        out.spelt, out.spelt_length, out.spelt_bits = (
            list(self.spelt),
            self.spelt_length,
            self.spelt_bits,
        )
        return out

    @classmethod
    def restored(cls, options: dict[str, Any], z: Any, name: str) -> _Column:
        """A column as ``Keywords.save`` wrote it (``z``: the open file's arrays)."""
        col = cls(options)
        blob = z[f"{name}.terms"].tobytes().decode()
        col.terms = blob.split("\n") if blob else []
        col.vocab = dict(zip(col.terms, range(len(col.terms))))
        col.lengths = z[f"{name}.lengths"]
        term_of = z[f"{name}.term_of"]
        terms, starts = np.unique(term_of, return_index=True)
        col.segments = [_Segment(terms, np.append(starts, len(term_of)).astype(np.int64),
                                 z[f"{name}.labels"], z[f"{name}.counts"], term_of)]  # fmt: skip
        col.df_all = col.df = np.bincount(term_of, minlength=len(col.terms)).astype(np.int64)
        col.total = float(col.lengths.sum(dtype=np.float64))
        col.docs = col.n
        col.avgdl = np.float32(col.total / col.n) if col.n else np.float32(1.0)
        col.spelt = [col.terms[i] for i in z[f"{name}.spelt"]]
        col.spelt_length, col.spelt_bits = z[f"{name}.spelt_length"], z[f"{name}.spelt_bits"]
        return col

    def extend(self, texts: Sequence[str | None]) -> None:
        """Append the documents of labels ``[n, n + len(texts))``."""
        tokens = tokenize(texts, self.options)
        ids: list[int] = []
        setdefault, terms, spelt = self.vocab.setdefault, self.terms, len(self.spelt)
        for doc in tokens:
            for t in doc:
                i = setdefault(t, len(terms))
                if i == len(terms):
                    terms.append(t)
                    if t.isalpha() or sum(not c.isalpha() for c in t) <= MAX_EDITS:
                        self.spelt.append(t)
                ids.append(i)
        new = self.spelt[spelt:]
        self.spelt_length = np.append(self.spelt_length, np.array([len(t) for t in new], np.int32))
        self.spelt_bits = np.append(self.spelt_bits, np.array([_bits(t) for t in new], np.uint64))
        lengths = np.fromiter((len(d) for d in tokens), np.float32, len(tokens))
        labels = np.repeat(np.arange(self.n, self.n + len(tokens), dtype=np.int64),
                           lengths.astype(np.int64))  # fmt: skip
        segment = _Segment.of(labels, np.asarray(ids, np.int64))
        self.segments.append(segment)
        self.lengths = np.concatenate([self.lengths, lengths])
        df = np.zeros(len(terms), np.int64)
        df[: len(self.df_all)] = self.df_all
        self.df_all = self.df = df + np.bincount(segment.term_of, minlength=len(terms))
        self.total += float(lengths.sum(dtype=np.float64))
        self.docs = self.n
        self.avgdl = np.float32(self.total / self.n) if self.n else np.float32(1.0)
        if len(self.segments) > MAX_SEGMENTS:
            self.segments = [_Segment.merged(self.segments)]

    def count_only(self, counted: np.ndarray) -> None:
        """BM25's statistics of the (n,) labels ``counted`` only."""
        df = np.zeros(len(self.terms), np.int64)
        for s in self.segments:
            df += np.bincount(s.term_of[counted[s.labels]], minlength=len(self.terms))
        self.df, self.docs = df, int(counted.sum())
        total = float(self.lengths[counted].sum(dtype=np.float64))
        self.avgdl = np.float32(total / self.docs) if self.docs else np.float32(1.0)

    def score(
        self, tokens: list[str], ok: np.ndarray, boost: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """(labels, their scores as float32 terms, one per posting) of ``tokens`` over the
        labels where ``ok`` (n,) is set; the caller adds them up by label."""
        labels: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        n = np.float32(self.docs)
        for token in tokens:
            term = self.vocab.get(token)
            if term is None or self.df[term] == 0:
                continue
            df = np.float32(self.df[term])
            idf = np.log((n - df + np.float32(0.5)) / (df + np.float32(0.5)) + np.float32(1.0))
            for s in self.segments:
                found, tf = s.postings(term)
                keep = ok[found]
                found, tf = found[keep], tf[keep]
                norm = K1 * (np.float32(1.0) - B + B * self.lengths[found] / self.avgdl)
                part = idf * ((K1 + np.float32(1.0)) * tf / (tf + norm))
                labels.append(found)
                scores.append(part * np.float32(boost) if boost != 1.0 else part)
        if not labels:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        return np.concatenate(labels), np.concatenate(scores)

    def near(self, word: str, edits: int) -> list[str]:
        """The terms within ``edits`` of ``word`` (Levenshtein, by character), the first
        ``MAX_EXPANSIONS`` in byte order (UTF-8's order is the code points')."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        # An edit changes the length by one at most, and which characters a word holds by
        # two at most: the terms further off in either are not looked at.
        close = np.abs(self.spelt_length - len(word)) <= edits
        close &= _popcount(self.spelt_bits ^ np.uint64(_bits(word))) <= 2 * edits
        pool = [self.spelt[i] for i in np.flatnonzero(close)]
        found = process.extract(word, pool, scorer=Levenshtein.distance, score_cutoff=edits,
                                limit=None)  # fmt: skip
        return sorted(t for t, _, _ in found)[:MAX_EXPANSIONS]


def _bits(term: str) -> int:
    """The characters of ``term`` as a set of 64 bits (by code point modulo 64): two terms
    that differ by one edit differ in two of these bits at most."""
    out = 0
    for c in set(term):
        out |= 1 << (ord(c) & 63)
    return out


def _popcount(x: np.ndarray) -> np.ndarray:
    """(N,) uint64 -> (N,) the bits set in each."""
    if hasattr(np, "bitwise_count"):  # numpy 2
        return np.bitwise_count(x)  # type: ignore[no-any-return]
    table = np.array([bin(i).count("1") for i in range(256)], np.uint8)
    return table[x.view(np.uint8)].reshape(-1, 8).sum(axis=1)  # type: ignore[no-any-return]


class Keywords:
    """The keyword index of one serving-index state: labels ``[0, n)``. ``updated`` makes a
    later state's from it (its new labels appended); the object itself does not change once
    made, so searches share it."""

    def __init__(self, config: dict[str, dict[str, Any]], words: _Column,
                 verbatim: _Column | None, epoch: int, version: int) -> None:  # fmt: skip
        self.config = config  # column -> its index's settings, as LanceDB reports them
        self.words = words
        self.verbatim = verbatim
        self.epoch = epoch  # the serving index's labelling (a rebuild numbers labels anew)
        self.version = version  # the table version it is of

    @property
    def n(self) -> int:
        return self.words.n

    @classmethod
    def build(cls, config: dict[str, dict[str, Any]], texts: dict[str, Sequence[str | None]],
              epoch: int, version: int, counted: np.ndarray | None = None) -> Keywords:  # fmt: skip
        """From each index's settings (``config``: column -> LanceDB's ``index_details``; the
        ``words`` one at least) and the (L,) texts of every label by column; statistics of
        the (L,) labels ``counted`` (None: all)."""
        columns = {}
        for name, details in config.items():
            col = _Column(tokenizer_options(details))
            col.extend(texts[name])
            if counted is not None:
                col.count_only(counted)
            columns[name] = col
        return cls(config, columns["words"], columns.get("verbatim"), epoch, version)

    def updated(self, texts: dict[str, Sequence[str | None]], version: int,
                counted: np.ndarray | None = None) -> Keywords:  # fmt: skip
        """With the labels ``[n, n + len(texts[column]))``, of these texts (by column);
        statistics of the labels ``counted`` (None: all)."""
        columns: list[_Column | None] = []
        for col, name in ((self.words, "words"), (self.verbatim, "verbatim")):
            if col is None:
                columns.append(None)
                continue
            new = col.copy()
            new.extend(texts[name])
            if counted is not None:
                new.count_only(counted)
            columns.append(new)
        assert columns[0] is not None
        return Keywords(self.config, columns[0], columns[1], self.epoch, version)

    # -- kept with the collection ---------------------------------------------------------

    def save(self, path: Path) -> None:
        """Written beside the tables for a new process of the same table version (its labels
        the table's rows): read in a fraction of the time a build takes (tokenising every
        row twice). Written to a temporary file, then renamed over the old one."""
        arrays: dict[str, np.ndarray] = {}
        for name, col in (("words", self.words), ("verbatim", self.verbatim)):
            if col is None:
                continue
            seg = _Segment.merged(col.segments) if len(col.segments) > 1 else col.segments[0]
            col.segments = [seg]  # the same postings, one segment (searches see either)
            spelt = np.array([col.vocab[t] for t in col.spelt], np.int64)
            arrays |= {f"{name}.terms": np.frombuffer("\n".join(col.terms).encode(), np.uint8),
                       f"{name}.lengths": col.lengths, f"{name}.labels": seg.labels,
                       f"{name}.counts": seg.counts, f"{name}.term_of": seg.term_of,
                       f"{name}.spelt": spelt, f"{name}.spelt_length": col.spelt_length,
                       f"{name}.spelt_bits": col.spelt_bits}  # fmt: skip
        head = {"format": FORMAT, "version": self.version, "config": self.config, "n": self.n}
        arrays["head"] = np.frombuffer(json.dumps(head).encode(), np.uint8)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path, config: dict[str, dict[str, Any]], epoch: int, version: int,
             n: int) -> Keywords | None:  # fmt: skip
        """The index ``save`` wrote for this table version, these settings and ``n`` rows,
        or None (no file, another version, unreadable: built instead)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                head = json.loads(z["head"].tobytes())
                if (head.get("format"), head.get("version"), head.get("config"),
                        head.get("n")) != (FORMAT, version, config, n):  # fmt: skip
                    return None
                columns = {name: _Column.restored(tokenizer_options(details), z, name)
                           for name, details in config.items()}  # fmt: skip
        except (OSError, ValueError, KeyError, EOFError):
            return None
        return cls(config, columns["words"], columns.get("verbatim"), epoch, version)

    def search(self, text: str, k: int, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels, BM25 scores) of the ``k`` best documents for ``text``'s words among the
        labels where ``ok`` (n,) is set, best first: the query ``keyword_query`` makes."""
        words = WORD.findall(text)
        if not words:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        joined = " ".join(words)
        parts = [self.words.score(tokenize([joined], self.words.options)[0], ok)]
        if self.verbatim is not None:
            v = self.verbatim
            parts.append(v.score(tokenize([joined], v.options)[0], ok))
            for word in dict.fromkeys(w.lower() for w in words):
                edits = fuzzy_edits(word)
                if edits:
                    parts.append(v.score(v.near(word, edits), ok, FUZZY_BOOST))
        labels = np.concatenate([p[0] for p in parts])
        if len(labels) == 0:
            return labels, np.zeros(0, np.float32)
        scores = np.concatenate([p[1] for p in parts])
        found, where = np.unique(labels, return_inverse=True)
        total = np.bincount(where, weights=scores).astype(np.float32)  # (U,)
        top = np.lexsort((found, -total))[:k]  # ties: by label
        return found[top], total[top]
