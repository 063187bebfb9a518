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

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from sensorium.errors import UsageError
from sensorium.media.types import MediaKind
from sensorium.search.fingerprint import alignment, print_summary, sound_print_of
from sensorium.search.vectors import faiss_module
from sensorium.store.base import Store

__all__ = ["DUPLICATE_THRESHOLD", "DuplicateGroup", "duplicates"]


@dataclass(frozen=True)
class _Rule:
    """How near-duplicates of one kind are found."""

    threshold: float  # the default: images' features cosine, sounds' aligned correlation
    floor: float  # the default floor on the cosine of the shared-space vectors
    candidate: float | None = None  # cosine of features, or of print summaries, that proposes
    # a pair to line up (sounds)
    top: int | None = None  # only each item's nearest few are proposed (each costs a check)


# From benchmarks/duplicates.py (pairs within returned groups; 160 photos, 60 with 4 copies
# each, and as many sounds with 3). Photos: at features 0.8, P 0.94 R 0.70 (0.7: P 0.80
# R 0.91, but in a library of Tux Paint cut-outs a mouse and a rat, an ostrich and a rhea
# meet at 0.71-0.74: a list of files to delete must not hold them; half-size copies of small
# images are the ones missed). Centring the features or a vector floor did not help. Sounds:
# the spectrograms' correlation where they line up best (search/fingerprint.py), over each
# sound's 16 nearest by features and by the summary of its print, at least 0.3 alike (a trim
# moves the encoder's 0.96 s patches: a crow trimmed by a tenth has features cosine 0.52,
# and a short effect's copy may rank 150th; by summary within the first 3); features 0.85
# and vectors 0.9 alone gave P 0.44 R 0.76.
RULES = {
    MediaKind.IMAGE: _Rule(0.8, 0.0),
    MediaKind.AUDIO: _Rule(0.75, 0.0, candidate=0.3, top=16),
}
DEFAULTS = {k.value: (r.threshold, r.floor) for k, r in RULES.items()}
DUPLICATE_THRESHOLD = RULES[MediaKind.IMAGE].threshold
VECTOR_FLOOR = RULES[MediaKind.IMAGE].floor
SOUND_FEATURES_ALONE = 0.85  # a sound that cannot be read now is judged by features at this
DURATION_RATIO = 0.8  # sounds: the shorter at least this share of the longer (a trim is a copy)
PRINTS_BUDGET = 256 * 2**20  # bytes of prints kept (30 s of sound: 94 KB; an effect: 10 KB)
NEIGHBOURS = 16  # per item, with a graph (large collections)
EXACT_UP_TO = 20_000  # items of a kind compared all against all (blocks of 2,048)
KINDS = tuple(k.value for k in RULES)


@dataclass
class DuplicateGroup:
    kind: str
    ids: list[str]  # the one to keep first: the largest (pixels, then bytes)
    paths: list[str]
    # each file's likeness to the first (1.0 for the first): for images the cosine of their
    # features, for sounds the correlation of their aligned spectrograms
    similarity: list[float]

    @property
    def score(self) -> float:
        """The least similar member's likeness to the first."""
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
            # with ``top``, both ways: j may be among i's nearest and not i among j's
            keep = s + i < j if top is None else s + i != j
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
    """Sounds' spectrogram prints by row, read when first asked for and kept up to
    PRINTS_BUDGET bytes (the least recently used go first, to be read again if asked for);
    None where a file cannot be read now: the pair is then judged by its features, at
    SOUND_FEATURES_ALONE."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self.kept: OrderedDict[int, np.ndarray | None] = OrderedDict()
        self.bytes = 0

    def get(self, r: int) -> np.ndarray | None:
        if r in self.kept:
            self.kept.move_to_end(r)
            return self.kept[r]
        found = sound_print_of(self.paths[r])
        self.kept[r] = found
        self.bytes += 0 if found is None else found.nbytes
        while self.bytes > PRINTS_BUDGET and len(self.kept) > 2:
            old = self.kept.popitem(last=False)[1]
            self.bytes -= 0 if old is None else old.nbytes
        return found

    def similarity(self, a: int, b: int, cosine: float) -> float:
        pa, pb = self.get(a), self.get(b)
        if pa is None or pb is None:
            return cosine if cosine >= SOUND_FEATURES_ALONE else 0.0
        return alignment(pa, pb)


def _of_kind(
    rule: _Rule, kind: str, table: dict[str, list[Any]], rows: list[int], threshold: float,
    floor: float,
) -> list[DuplicateGroup]:  # fmt: skip
    """The groups among ``rows`` of the table (items of one kind)."""
    x = _unit([table["features"][r] for r in rows], [table["vector"][r] for r in rows])
    prints = _Prints([table["path"][r] for r in rows])
    i, j, cos = _pairs(x, threshold if rule.candidate is None else rule.candidate, rule.top)
    if rule.candidate is not None:  # and each sound's nearest by the summary of its print
        summaries = np.stack([print_summary(prints.get(r)) for r in range(len(rows))])
        si, sj, _ = _pairs(summaries, rule.candidate, rule.top)  # (N, 2 * BANDS) above
        pairs = np.unique(np.concatenate([i * len(rows) + j, si * len(rows) + sj]))
        i, j = pairs // len(rows), pairs % len(rows)
        cos = np.einsum("ij,ij->i", x[i], x[j])
    vectors = _unit([table["vector"][r] for r in rows], [], center=False)  # (N, 384)
    durations = np.array([table["duration"][r] or 0.0 for r in rows], np.float32)
    keep = _agree(i, j, vectors, durations, floor)
    i, j, cos = i[keep], j[keep], cos[keep]

    def likeness(a: int, b: int, cosine: float) -> float:
        return cosine if rule.candidate is None else prints.similarity(a, b, cosine)

    if rule.candidate is not None:  # proposed by features, confirmed by lining up
        order = np.lexsort((j, i))  # one row's pairs together: its print is read once
        i, j, cos = i[order], j[order], cos[order]
        liked = np.array([likeness(a, b, c) for a, b, c in zip(i.tolist(), j.tolist(), cos)])
        i, j = i[liked >= threshold], j[liked >= threshold]
    # the one to keep: the most pixels, then the most bytes
    size = [((table["width"][r] or 0) * (table["height"][r] or 0), table["size"][r] or 0)
            for r in rows]  # fmt: skip
    out = []
    for members in _groups(len(rows), i, j):
        members.sort(key=lambda m: size[m], reverse=True)
        first = members[0]
        sims = [1.0] + [likeness(m, first, float(x[m] @ x[first])) for m in members[1:]]
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
            rule = RULES[MediaKind(k)]
            out += _of_kind(rule, k, table, rows,
                            rule.threshold if threshold is None else threshold,
                            rule.floor if vector_floor is None else vector_floor)  # fmt: skip
    return sorted(out, key=lambda g: -g.score)
