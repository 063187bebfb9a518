"""Retrieval, agreement re-ranking and explanations.

Each query part retrieves candidates from the store; every candidate is then scored exactly
against every part (cosine), the parts are mixed by their weights, and items on which
several parts agree are lifted: ``score = weighted mean + AGREEMENT * min(part scores)``.
A video is stored as moments; it is returned once, at its best moment. A text query that asks
what is seen, heard or said ("where does she say budget") is scored against that part only.

Keywords: the text's words are also looked up in the store's full-text index (file names, what
was said, written or typed), and the two rankings (meaning, keywords) are fused by reciprocal
rank (``1 / (RRF_K + rank)`` summed; Cormack et al. 2009), so "invoice" finds the recording
that says it even when its vector ranks it low. ``Hit.score`` stays the meaning score; the
order is the fused one, except that for a plain text query an item whose text (typed, read
or said) is the query's own, up to case and spacing, comes first.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sensorium.errors import UsageError
from sensorium.search.query import (
    Query,
    QueryPart,
    embed_query,
    encode_texts,
    parse_negatives,
    parse_target,
    query_filter,
)
from sensorium.search.vectors import Retriever
from sensorium.space import SharedSpace
from sensorium.store.base import Filter
from sensorium.store.records import Item
from sensorium.video.summary import named_sounds

__all__ = ["AGREEMENT", "RRF_K", "Hit", "search", "similar"]

AGREEMENT = 0.25  # weight of the weakest part's score when several parts are given
CANDIDATES = 5  # each part retrieves k * CANDIDATES items (at least 50) before re-ranking
RRF_K = 60  # reciprocal rank fusion's constant (the usual one)
_BACKGROUND = ThreadPoolExecutor(max_workers=4, thread_name_prefix="keywords")


@dataclass
class Hit:
    item: Item
    score: float
    parts: dict[str, float]  # query modality -> cosine similarity
    explanation: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.item.path, "score": round(self.score, 4), "type": self.item.kind,
            "id": self.item.id, "explanation": self.explanation,
        }  # fmt: skip
        moment = self.explanation.get("moment")
        if moment:
            out["start"], out["end"] = moment["start"], moment["end"]
        return out


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def _explain_text(space: SharedSpace, query: str, q: np.ndarray, item: Item) -> dict[str, Any]:
    """Which labels and which transcript line of the item are closest to the text query (their
    vectors come from ``encode_texts``' memory: ``_explain`` encodes all hits' at once)."""
    out: dict[str, Any] = {}
    if item.labels and item.kind != "video":  # a moment says what is seen, heard and said
        names = [lb for lb, _ in item.labels]
        confident = np.array([s for _, s in item.labels]) >= 0.1 * item.labels[0][1]
        sims = np.where(confident, encode_texts(space, names) @ q, -np.inf)  # (L,)
        order = np.argsort(-sims)[: min(2, int(confident.sum()))]
        out["labels"] = [{"label": names[i], "score": round(item.labels[i][1], 3)} for i in order]
    if item.kind == "video":
        out.update(_explain_moment(item, q))
    elif item.segments:
        texts = [s["text"] for s in item.segments]
        best = int(np.argmax(encode_texts(space, texts) @ q))
        seg = item.segments[best]
        out["transcript"] = seg["text"]
        out["moment"] = {"start": seg["start"], "end": seg["end"]}
    words = _words(query) & _words(
        " ".join([item.transcript, item.text, *(lb for lb, _ in item.labels)])
    )
    if words:
        out["words"] = sorted(words)
    if item.text:  # an image's text is what was read in it
        out["written" if item.kind in ("image", "video") else "text"] = item.text[:160]
    return out


def _explain_moment(item: Item, q: np.ndarray | None) -> dict[str, Any]:
    """A video moment: when, what was seen, heard and said, and which of them matched."""
    out: dict[str, Any] = {"moment": {"start": round(item.start, 2), "end": round(item.end, 2)}}
    out["seen"] = [lb for lb, _ in item.labels[:2]]
    heard = [lb for lb, _ in named_sounds(item.heard, 2)]
    if heard:
        out["heard"] = heard
    if item.transcript:
        out["said"] = item.transcript
    if item.text:  # read in its frames
        out["written"] = item.text
    if q is not None and item.part_vectors:
        sims = {name: float(v @ q) for name, v in item.part_vectors.items()}
        out["matched"] = max(sims, key=lambda n: sims[n])
        out["part_scores"] = {n: round(v, 4) for n, v in sims.items()}
    return out


def _keyword_match(words: set[str], item: Item) -> dict[str, Any] | None:
    """Where a word of the query is in the item: said (with its moment), written, typed or in
    the file name; None when the keyword ranking found it through a stem only."""
    for seg in item.segments:
        found = words & _words(seg["text"])
        if found:
            return {"word": min(found), "in": "said", "at": round(float(seg["start"]), 2)}
    places = (("said", item.transcript), ("written" if item.kind in ("image", "video")
              else "typed", item.text), ("name", Path(item.path).name))  # fmt: skip
    for place, text in places:
        found = words & _words(text.replace("_", " "))
        if found:
            out: dict[str, Any] = {"word": min(found), "in": place}
            if place == "said" and item.kind == "video":
                out["at"] = round(item.start, 2)
            return out
    return None


def _explain(space: SharedSpace, query: Query, parts: dict[str, QueryPart], hit: Hit) -> None:
    exp: dict[str, Any] = {"parts": {k: round(v, 4) for k, v in hit.parts.items()}}
    if query.text:
        exp.update(_explain_text(space, query.text, parts["text"].vector, hit.item))
        if "keyword" in hit.parts:
            match = _keyword_match(_words(query.text) - _STOP, hit.item)
            if match:
                exp["keyword"] = match
    if query.negative:
        exp["not"] = list(query.negative)
    item_labels = {lb for lb, _ in hit.item.labels}
    for name in ("image", "audio", "like"):
        if name in parts:
            shared = [lb for lb, _ in parts[name].labels if lb in item_labels]
            if shared:
                exp[f"shared_{name}_labels"] = shared
    if hit.item.kind == "video" and "moment" not in exp:
        exp.update(_explain_moment(hit.item, None))
    if query.target:
        exp["target"] = query.target
    if "labels" not in exp and hit.item.labels and hit.item.kind != "video":
        exp["labels"] = [{"label": lb, "score": round(s, 3)} for lb, s in hit.item.labels[:2]]
    hit.explanation = exp


_STOP = {"the", "and", "for", "with", "that", "this", "from", "about", "into", "there"}


def _prefetch(space: SharedSpace, query: Query, hits: list[Hit]) -> None:
    """Encode, in one batch, the label names and transcript lines the explanations compare
    with the query (remembered afterwards: most are the same labels again and again)."""
    if not query.text:
        return
    texts = [lb for h in hits if h.item.kind != "video" for lb, _ in h.item.labels]
    texts += [s["text"] for h in hits if h.item.kind != "video" for s in h.item.segments]
    encode_texts(space, texts)


def _target_sims(items: list[Item], q: np.ndarray, target: str) -> np.ndarray:
    """(C,) the query against each item's ``target`` part. An image with no text read in it
    is all "seen"; an item without the part ranks after every item that has it."""
    out = np.empty(len(items), np.float32)
    for i, item in enumerate(items):
        v = item.part_vectors.get(target)
        if v is None and item.kind == "image" and target == "seen":
            v = item.vector
        out[i] = float(v @ q) if v is not None else float(item.vector @ q) - 1.0
    return out


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def _exact(query: Query, parts: dict[str, QueryPart], items: list[Item]) -> np.ndarray:
    """(C,) for a plain text query with keywords on: 2 for an item whose text (typed, read
    in it, or said) is the query's, 1 for the same up to case and spacing, else 0."""
    out = np.zeros(len(items), np.int8)
    active = [name for name, p in parts.items() if p.weight > 0]
    if not (query.text and query.keywords and active == ["text"]):
        return out
    text, normal = query.text.strip(), _normal(query.text)
    for i, item in enumerate(items):
        for said in (item.text, item.transcript):
            if said and said.strip() == text:
                out[i] = 2
            elif said and out[i] == 0 and _normal(said) == normal:
                out[i] = 1
    return out


def _keywords(store: Retriever, query: Query, k: int) -> Future[list[tuple[Item, float]]] | None:
    """The keyword lookup, started in the background: it needs no vector, so it runs while
    the query is encoded (the two take about 5 and 10 ms)."""
    if not (query.text and query.keywords and query.weights.get("text", 1.0) > 0):
        return None
    return _BACKGROUND.submit(
        store.keyword, query.text, max(k * CANDIDATES, 50), query_filter(query)
    )


def _candidates(
    store: Retriever,
    query: Query,
    parts: dict[str, QueryPart],
    k: int,
    keyword: Future[list[tuple[Item, float]]] | None,
) -> tuple[list[Item], dict[str, int]]:
    """(every candidate, keyword rank by item id): each part's nearest items, and the items
    whose words match the text's."""
    where: Filter = query_filter(query)
    limit = max(k * CANDIDATES, 50)
    found: dict[str, Item] = {}
    for p in parts.values():
        if p.weight > 0:
            for item, _ in store.search(p.vector, limit, where):
                found[item.id] = item
    ranks: dict[str, int] = {}
    for rank, (item, _) in enumerate(keyword.result() if keyword else []):
        found.setdefault(item.id, item)
        ranks.setdefault(item.id, rank)
    if query.like is not None:
        found = {i: item for i, item in found.items() if item.path != query.like.path}
    return list(found.values()), ranks


def _resolve(query: Query) -> Query:
    """Negative terms out of the text ("beach -people"), then what it asks about."""
    if query.text:
        text, negative = parse_negatives(query.text)
        if negative:
            query = replace(query, text=text or None, negative=query.negative + negative)
    if query.negative and not query.text:
        raise UsageError("a concept to leave out needs a text query to subtract it from")
    if query.text and query.target is None:
        target, text = parse_target(query.text)
        if target:
            return replace(query, text=text, target=target)
    return query


def search(store: Retriever, space: SharedSpace, query: Query, k: int = 10) -> list[Hit]:
    """The ``k`` best files for the query; for a video, its best moment."""
    query = _resolve(query)
    keyword = _keywords(store, query, k)
    parts = embed_query(space, query)
    items, keyword_ranks = _candidates(store, query, parts, k, keyword)
    if not items:
        return []
    matrix = np.stack([i.vector for i in items])  # (C, 384)
    # name -> (C,); einsum rather than BLAS, whose threads cost ms on a busy machine
    sims = {name: np.einsum("ij,j->i", matrix, p.vector) for name, p in parts.items()}
    if query.target:
        sims["text"] = _target_sims(items, parts["text"].vector, query.target)
    active = [name for name, p in parts.items() if p.weight > 0]
    total = sum(parts[name].weight for name in active)
    score = sum(parts[name].weight * sims[name] for name in active) / total  # (C,)
    if len(active) > 1:
        score = score + AGREEMENT * np.min(np.stack([sims[n] for n in active]), axis=0)
    order = np.argsort(-score)
    exact = _exact(query, parts, items)  # (C,) 2 the same text, 1 up to case and spacing
    if exact.any():  # the keyword ranking puts them first, before its BM25 order
        rest = sorted(keyword_ranks, key=lambda i: keyword_ranks[i])
        ids = [items[i].id for i in np.lexsort((-score, -exact)) if exact[i]]
        keyword_ranks = {i: r for r, i in enumerate(dict.fromkeys([*ids, *rest]))}
    if keyword_ranks:  # fuse the meaning ranking with the keyword ranking
        fused = np.zeros(len(items))
        fused[order] = 1.0 / (RRF_K + np.arange(len(items)))
        for i, item in enumerate(items):
            if item.id in keyword_ranks:
                fused[i] += 1.0 / (RRF_K + keyword_ranks[item.id])
        # An item whose text is the query's own comes first. Fused ranks alone can put a
        # near-identical text before it: the encoder ignores case and accents ("resume"
        # and "résumé" are one vector) and BM25 ties what stems alike ("Caesar's",
        # "Caesars", "Caesar"), in no particular order (benchmarks/texts.py: 0.78 first).
        order = np.lexsort((-score, -fused, -exact))
    hits: list[Hit] = []
    files: set[str] = set()
    for i in order:
        if items[i].path in files:
            continue  # a video is returned once, at its best moment
        files.add(items[i].path)
        part_scores = {n: float(s[i]) for n, s in sims.items()}
        if items[i].id in keyword_ranks:
            part_scores["keyword"] = 1.0 / (1 + keyword_ranks[items[i].id])
        hits.append(Hit(items[i], float(score[i]), part_scores))
        if len(hits) == k:
            break
    _prefetch(space, query, hits)
    for hit in hits:
        _explain(space, query, parts, hit)
    return hits


def similar(
    store: Retriever, item: Item, k: int = 10, where: Filter | str | None = None
) -> list[Hit]:
    """More like this: the ``k`` files nearest to ``item`` (the item's own file left out), a
    video at its best moment, each explained by the labels it shares with ``item``."""
    found = store.search(item.vector, max(k * CANDIDATES, 50), where)
    mine = {lb for lb, _ in [*item.labels, *item.heard]}
    hits: list[Hit] = []
    files = {item.path}
    for other, score in found:  # best first
        if other.path in files:
            continue
        files.add(other.path)
        exp: dict[str, Any] = {"parts": {"item": round(score, 4)}}
        shared = [lb for lb, _ in [*other.labels, *other.heard] if lb in mine]
        if shared:
            exp["shared_labels"] = list(dict.fromkeys(shared))[:3]
        if other.kind == "video":
            exp.update(_explain_moment(other, None))
        elif other.labels:
            exp["labels"] = [{"label": lb, "score": round(s, 3)} for lb, s in other.labels[:2]]
        hits.append(Hit(other, score, {"item": score}, exp))
        if len(hits) == k:
            break
    return hits
