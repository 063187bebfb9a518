"""Near-duplicates: groups of images (or sounds) that are the same picture (or recording)
re-encoded, resized, cropped or flipped (made quieter, trimmed), as clip-retrieval's dedup
and immich's duplicate finder do it: nearest neighbours by embedding above a cosine
threshold, joined into groups.

The shared-space vector is a poor judge here: it says what a file shows ("a cat"), so two
different cats match. The encoder's own features (the image encoder's pooled 1280-d output,
the sound encoder's 521 scores) keep what the file looks like; they are compared instead
(the vector where an item has none). Sounds' features still say only what a sound is, so a
pair of sounds they propose is confirmed by lining up the two recordings' spectrograms
(search/fingerprint.py). Thresholds from benchmarks/duplicates.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sensorium.errors import UsageError
from sensorium.search.fingerprint import alignment, sound_print_of
from sensorium.search.vectors import faiss_module
from sensorium.store.base import Store

__all__ = ["DUPLICATE_THRESHOLD", "DuplicateGroup", "duplicates"]

# Per kind, (threshold, floor on the cosine of the shared-space vectors), from
# benchmarks/duplicates.py (pairs within returned groups; 160 photos, 60 with 4 copies each,
# and as many sounds with 3). Photos: the threshold is the cosine of the features; at 0.7,
# P 0.80 R 0.91 (0.8: P 0.94 R 0.70; centring the features or a vector floor did not help).
# Sounds: the threshold is the correlation of the aligned spectrograms, over the pairs whose
# features are at least SOUND_CANDIDATE alike: at 0.85, P 1.00 R 0.96 (0.8: P 0.99; another
# recording of the same kind of sound reached 0.80 at most; features 0.85 and vectors 0.9
# without the alignment: P 0.44 R 0.76).
DEFAULTS = {"image": (0.7, 0.0), "audio": (0.85, 0.0)}
DUPLICATE_THRESHOLD = DEFAULTS["image"][0]
VECTOR_FLOOR = DEFAULTS["image"][1]
SOUND_CANDIDATE = 0.3  # features cosine that makes two sounds worth lining up: low, since a
# trim moves the encoder's 0.96 s patches (a crow trimmed by a tenth: cosine 0.52); the
# alignment decides, and NEIGHBOURS bounds the pairs it checks
SOUND_FEATURES_ALONE = 0.85  # a sound that cannot be read now is judged by features at this
DURATION_RATIO = 0.8  # sounds: the shorter at least this share of the longer (a trim is a copy)
NEIGHBOURS = 16  # per item, with a graph (large collections), and per sound always
EXACT_UP_TO = 20_000  # items of a kind compared all against all (blocks of 2,048)
KINDS = ("image", "audio")


@dataclass
class DuplicateGroup:
    kind: str
    ids: list[str]  # the one to keep first: the largest (pixels, then bytes)
    paths: list[str]
    similarity: list[float]  # each file's cosine to the first (1.0 for the first)

    @property
    def score(self) -> float:
        """The least similar member's cosine to the first."""
        return min(self.similarity[1:])

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "score": round(self.score, 4),
                "items": [{"id": i, "path": p, "similarity": round(s, 4)}
                          for i, p, s in zip(self.ids, self.paths, self.similarity)]}  # fmt: skip


def _unit(rows: list[Any], fallback: list[Any], center: bool = False) -> np.ndarray:
    """(N, D) features, L2-normalised (``center``: on their mean first); an item without
    features gets a zero row (it matches nothing) unless every item lacks them, when the
    vectors are used."""
    if all(r is None for r in rows):
        rows = fallback
    dim = max(len(r) for r in rows if r is not None)
    out = np.zeros((len(rows), dim), np.float32)
    has = np.zeros(len(rows), bool)
    for i, r in enumerate(rows):
        if r is not None and len(r) == dim:
            out[i], has[i] = r, True
    if center and has.sum() > 1:
        out[has] -= out[has].mean(0)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _pairs(
    x: np.ndarray, threshold: float, top: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, cosine) for every pair i < j of rows of ``x`` (N, D) above the threshold
    (``top``: only each row's ``top`` nearest others, so that costly checks of each pair stay
    bounded when many items are alike, as a collection of speech recordings is)."""
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    faiss = faiss_module()  # without it, all against all however many: right, only slower
    if len(x) <= EXACT_UP_TO or faiss is None:
        for s in range(0, len(x), 2048):
            sims = x[s : s + 2048] @ x.T  # (B, N)
            if top is not None and top + 1 < len(x):  # keep each row's top + 1 (itself too)
                cut = np.partition(sims, -(top + 1), axis=1)[:, -(top + 1), None]  # (B, 1)
                sims = np.where(sims >= cut, sims, -1.0)
            i, j = np.nonzero(sims >= threshold)
            keep = s + i != j  # both ways: j may be among i's nearest and not i among j's
            out.append((s + i[keep], j[keep], sims[i[keep], j[keep]]))
    else:
        graph = faiss.IndexHNSWFlat(x.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
        graph.add(x)
        sims, nbrs = graph.search(x, NEIGHBOURS)  # (N, K) each
        i = np.repeat(np.arange(len(x)), NEIGHBOURS)
        j, c = nbrs.ravel(), sims.ravel()
        keep = (j >= 0) & (j != i) & (c >= threshold)
        out.append((i[keep], j[keep], c[keep]))
    if not out:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0, np.float32)
    i, j, c = (np.concatenate(parts) for parts in zip(*out))
    low, high = np.minimum(i, j), np.maximum(i, j)
    _, first = np.unique(low * len(x) + high, return_index=True)  # each pair once, as i < j
    return low[first], high[first], c[first]


def _groups(n: int, i: np.ndarray, j: np.ndarray) -> list[list[int]]:
    """Connected components of the pairs (union-find), of two or more rows."""
    parent = np.arange(n)

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return int(a)

    for a, b in zip(i.tolist(), j.tolist()):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for a in sorted(set(i.tolist()) | set(j.tolist())):
        members.setdefault(root(a), []).append(a)
    return [m for m in members.values() if len(m) > 1]


def _agree(
    i: np.ndarray, j: np.ndarray, vectors: np.ndarray, durations: np.ndarray, floor: float
) -> np.ndarray:
    """(P,) bool: pairs whose shared-space vectors (N, 384) agree at least ``floor`` and
    whose durations (N,) (0 for images) are close."""
    ok = np.einsum("ij,ij->i", vectors[i], vectors[j]) >= floor
    longer = np.maximum(durations[i], durations[j])
    return ok & (np.minimum(durations[i], durations[j]) >= DURATION_RATIO * longer)


class _Prints:
    """Sounds' spectrogram prints by row, each read once; None where a file cannot be read
    now (the pair is then judged by its features, at SOUND_FEATURES_ALONE)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self.prints: dict[int, np.ndarray | None] = {}

    def similarity(self, a: int, b: int, cosine: float) -> float:
        for r in (a, b):
            if r not in self.prints:
                self.prints[r] = sound_print_of(self.paths[r])
        pa, pb = self.prints[a], self.prints[b]
        if pa is None or pb is None:
            return cosine if cosine >= SOUND_FEATURES_ALONE else 0.0
        return alignment(pa, pb)


def _of_kind(
    kind: str, table: dict[str, list[Any]], rows: list[int], threshold: float, floor: float
) -> list[DuplicateGroup]:
    """The groups among ``rows`` of the table (items of one kind)."""
    x = _unit([table["features"][r] for r in rows], [table["vector"][r] for r in rows])
    sounds = kind == "audio"
    i, j, cos = _pairs(x, SOUND_CANDIDATE, NEIGHBOURS) if sounds else _pairs(x, threshold)
    vectors = _unit([table["vector"][r] for r in rows], [], center=False)  # (N, 384)
    durations = np.array([table["duration"][r] or 0.0 for r in rows], np.float32)
    keep = _agree(i, j, vectors, durations, floor)
    i, j, cos = i[keep], j[keep], cos[keep]
    prints = _Prints([table["path"][r] for r in rows])
    if sounds:
        aligned = [prints.similarity(a, b, c) for a, b, c in zip(i.tolist(), j.tolist(), cos)]
        keep = np.array(aligned, np.float64) >= threshold
        i, j = i[keep], j[keep]
    # the one to keep: the most pixels, then the most bytes
    size = [((table["width"][r] or 0) * (table["height"][r] or 0), table["size"][r] or 0)
            for r in rows]  # fmt: skip
    out = []
    for members in _groups(len(rows), i, j):
        members.sort(key=lambda m: size[m], reverse=True)
        first = members[0]
        sims = [1.0] + [
            prints.similarity(m, first, float(x[m] @ x[first])) if sounds
            else float(x[m] @ x[first])
            for m in members[1:]
        ]  # fmt: skip
        out.append(DuplicateGroup(kind, [table["id"][rows[m]] for m in members],
                                  [table["path"][rows[m]] for m in members], sims))  # fmt: skip
    return out


def duplicates(
    store: Store,
    threshold: float | None = None,
    kind: str | None = None,
    vector_floor: float | None = None,
) -> list[DuplicateGroup]:
    """Groups of near-identical files of each kind (images, sounds), most alike first.
    ``threshold``: for images the cosine of their features, for sounds the correlation of
    their aligned spectrograms; it and ``vector_floor`` default to each kind's
    (``DEFAULTS``)."""
    if threshold is not None and not 0 < threshold <= 1:
        raise UsageError("the duplicate threshold is a similarity in (0, 1]")
    if kind is not None and kind not in KINDS:
        raise UsageError(f"duplicates are found among {' and '.join(KINDS)} files")
    columns = ["id", "path", "kind", "segment", "size", "width", "height", "duration",
               "features", "vector"]  # fmt: skip
    table = store.snapshot().columns(columns).to_pydict()
    out: list[DuplicateGroup] = []
    for k in [kind] if kind else KINDS:
        rows = [r for r, (kd, seg) in enumerate(zip(table["kind"], table["segment"]))
                if kd == k and not seg]  # fmt: skip
        if len(rows) >= 2:
            t = DEFAULTS[k][0] if threshold is None else threshold
            out += _of_kind(k, table, rows, t, DEFAULTS[k][1] if vector_floor is None
                            else vector_floor)  # fmt: skip
    return sorted(out, key=lambda g: -g.score)
