"""Retrieval, agreement re-ranking and explanations.

Each query part retrieves candidates from the store; every candidate is then scored exactly
against every part (cosine), the parts are mixed by their weights, and items on which
several parts agree are lifted: ``score = weighted mean + AGREEMENT * min(part scores)``.
A video is stored as moments; it is returned once, at its best moment. A text query that asks
what is seen, heard or said ("where does she say budget") is scored against that part only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sensorium.search.query import Query, QueryPart, embed_query, parse_target, where_clause
from sensorium.space import SharedSpace
from sensorium.store.base import Store
from sensorium.store.records import Item
from sensorium.video.summary import named_sounds

__all__ = ["AGREEMENT", "Hit", "search", "similar"]

AGREEMENT = 0.25  # weight of the weakest part's score when several parts are given
CANDIDATES = 5  # each part retrieves k * CANDIDATES items (at least 50) before re-ranking


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
    """Which labels and which transcript line of the item are closest to the text query."""
    out: dict[str, Any] = {}
    if item.labels and item.kind != "video":  # a moment says what is seen, heard and said
        names = [lb for lb, _ in item.labels]
        confident = np.array([s for _, s in item.labels]) >= 0.1 * item.labels[0][1]
        sims = np.where(confident, space.text.encode(names) @ q, -np.inf)  # (L,)
        order = np.argsort(-sims)[: min(2, int(confident.sum()))]
        out["labels"] = [{"label": names[i], "score": round(item.labels[i][1], 3)} for i in order]
    if item.kind == "video":
        out.update(_explain_moment(item, q))
    elif item.segments:
        texts = [s["text"] for s in item.segments]
        best = int(np.argmax(space.text.encode(texts) @ q))
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


def _explain(space: SharedSpace, query: Query, parts: dict[str, QueryPart], hit: Hit) -> None:
    exp: dict[str, Any] = {"parts": {k: round(v, 4) for k, v in hit.parts.items()}}
    if query.text:
        exp.update(_explain_text(space, query.text, parts["text"].vector, hit.item))
    item_labels = {lb for lb, _ in hit.item.labels}
    for name in ("image", "audio"):
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


def _said_clause(text: str) -> str | None:
    """Items whose transcript holds a word of the query: candidates that a vector of the
    whole moment could rank too low when only a word of it is asked about."""
    words = sorted(w for w in _words(text) if w not in _STOP)[:8]
    if not words:
        return None
    return "(" + " OR ".join(f"lower(transcript) LIKE '%{w}%'" for w in words) + ")"


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


def _candidates(store: Store, query: Query, parts: dict[str, QueryPart], k: int) -> list[Item]:
    where = where_clause(query)
    limit = max(k * CANDIDATES, 50)
    found: dict[str, Item] = {}
    searches = [(p.vector, where) for p in parts.values() if p.weight > 0]
    said = _said_clause(query.text or "") if query.target == "said" else None
    if said:
        searches.append((parts["text"].vector, f"{where} AND {said}" if where else said))
    for vector, clause in searches:
        for item, _ in store.search(vector, limit, clause):
            found[item.id] = item
    return list(found.values())


def _resolve_target(query: Query) -> Query:
    if query.text and query.target is None:
        target, text = parse_target(query.text)
        if target:
            return replace(query, text=text, target=target)
    return query


def search(store: Store, space: SharedSpace, query: Query, k: int = 10) -> list[Hit]:
    """The ``k`` best files for the query; for a video, its best moment."""
    query = _resolve_target(query)
    parts = embed_query(space, query)
    items = _candidates(store, query, parts, k)
    if not items:
        return []
    matrix = np.stack([i.vector for i in items])  # (C, 384)
    sims = {name: matrix @ p.vector for name, p in parts.items()}  # name -> (C,)
    if query.target:
        sims["text"] = _target_sims(items, parts["text"].vector, query.target)
    active = [name for name, p in parts.items() if p.weight > 0]
    total = sum(parts[name].weight for name in active)
    score = sum(parts[name].weight * sims[name] for name in active) / total  # (C,)
    if len(active) > 1:
        score = score + AGREEMENT * np.min(np.stack([sims[n] for n in active]), axis=0)
    hits: list[Hit] = []
    files: set[str] = set()
    for i in np.argsort(-score):
        if items[i].path in files:
            continue  # a video is returned once, at its best moment
        files.add(items[i].path)
        hits.append(Hit(items[i], float(score[i]), {n: float(s[i]) for n, s in sims.items()}))
        if len(hits) == k:
            break
    for hit in hits:
        _explain(space, query, parts, hit)
    return hits


def similar(store: Store, item: Item, k: int = 10, where: str | None = None) -> list[Hit]:
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
