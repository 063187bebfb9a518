"""Near-duplicates: groups of images (or sounds) that are the same picture (or recording)
re-encoded, resized, cropped or flipped, as clip-retrieval's dedup and immich's duplicate
finder do it: nearest neighbours by embedding above a cosine threshold, joined into groups.

The shared-space vector is a poor judge here: it says what a file shows ("a cat"), so two
different cats match. The encoder's own features (the image encoder's pooled 1280-d output,
the sound encoder's 521 scores) keep what the file looks like; they are compared instead
(the vector where an item has none). Threshold from benchmarks/duplicates.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sensorium.errors import UsageError
from sensorium.search.vectors import faiss_module
from sensorium.store.base import Store

__all__ = ["DUPLICATE_THRESHOLD", "DuplicateGroup", "duplicates"]

# Per kind, (cosine of the encoder features, floor on the cosine of the shared-space vectors),
# from benchmarks/duplicates.py (pairs within returned groups; 160 photos, 60 with 4 copies
# each, and as many sounds with 3): photos at features 0.7, P 0.80 R 0.91 (0.8: P 0.94
# R 0.70; centring the features or a vector floor did not help). Sounds are harder, since
# the sound encoder's 521 class scores say what a sound is, not which recording it is:
# features 0.85 with vectors 0.9, P 0.44 R 0.76.
DEFAULTS = {"image": (0.7, 0.0), "audio": (0.85, 0.9)}
DUPLICATE_THRESHOLD = DEFAULTS["image"][0]
VECTOR_FLOOR = DEFAULTS["image"][1]
DURATION_RATIO = 0.8  # sounds: the shorter at least this share of the longer (a trim is a copy)
NEIGHBOURS = 16  # per item, with a graph (large collections)
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


def _pairs(x: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, cosine) for every pair i < j of rows of ``x`` (N, D) above the threshold."""
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    faiss = faiss_module()  # without it, all against all however many: right, only slower
    if len(x) <= EXACT_UP_TO or faiss is None:
        for s in range(0, len(x), 2048):
            sims = x[s : s + 2048] @ x.T  # (B, N)
            i, j = np.nonzero(sims >= threshold)
            keep = s + i < j
            out.append((s + i[keep], j[keep], sims[i[keep], j[keep]]))
    else:
        graph = faiss.IndexHNSWFlat(x.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
        graph.add(x)
        sims, nbrs = graph.search(x, NEIGHBOURS)  # (N, K) each
        i = np.repeat(np.arange(len(x)), NEIGHBOURS)
        j, c = nbrs.ravel(), sims.ravel()
        keep = (j > i) & (c >= threshold)
        out.append((i[keep], j[keep], c[keep]))
    if not out:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0, np.float32)
    return tuple(np.concatenate(parts) for parts in zip(*out))  # type: ignore[return-value]


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


def duplicates(
    store: Store,
    threshold: float | None = None,
    kind: str | None = None,
    vector_floor: float | None = None,
) -> list[DuplicateGroup]:
    """Groups of near-identical files of each kind (images, sounds), most alike first;
    ``threshold`` and ``vector_floor`` default to each kind's (``DEFAULTS``)."""
    if threshold is not None and not 0 < threshold <= 1:
        raise UsageError("the duplicate threshold is a cosine in (0, 1]")
    if kind is not None and kind not in KINDS:
        raise UsageError(f"duplicates are found among {' and '.join(KINDS)} files")
    columns = ["id", "path", "kind", "segment", "size", "width", "height", "duration",
               "features", "vector"]  # fmt: skip
    table = store.snapshot().columns(columns).to_pydict()
    out: list[DuplicateGroup] = []
    for k in [kind] if kind else KINDS:
        rows = [r for r, (kd, seg) in enumerate(zip(table["kind"], table["segment"]))
                if kd == k and not seg]  # fmt: skip
        if len(rows) < 2:
            continue
        x = _unit([table["features"][r] for r in rows], [table["vector"][r] for r in rows])
        i, j, _ = _pairs(x, DEFAULTS[k][0] if threshold is None else threshold)
        vectors = _unit([table["vector"][r] for r in rows], [], center=False)  # (N, 384)
        durations = np.array([table["duration"][r] or 0.0 for r in rows], np.float32)
        keep = _agree(i, j, vectors, durations,
                      DEFAULTS[k][1] if vector_floor is None else vector_floor)  # fmt: skip
        i, j = i[keep], j[keep]
        # the one to keep: the most pixels, then the most bytes
        size = [((table["width"][r] or 0) * (table["height"][r] or 0), table["size"][r] or 0)
                for r in rows]  # fmt: skip
        for members in _groups(len(rows), i, j):
            members.sort(key=lambda m: size[m], reverse=True)
            sims = (x[members] @ x[members[0]]).tolist()  # (M,) to the one kept
            out.append(DuplicateGroup(k, [table["id"][rows[m]] for m in members],
                                      [table["path"][rows[m]] for m in members],
                                      [float(s) for s in sims]))  # fmt: skip
    return sorted(out, key=lambda g: -g.score)
