"""Retrieval, agreement re-ranking and explanations.

Each query part retrieves candidates from the store; every candidate is then scored exactly
against every part (cosine), the parts are mixed by their weights, and items on which
several parts agree are lifted: ``score = weighted mean + AGREEMENT * min(part scores)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensorium.search.query import Query, QueryPart, embed_query, where_clause
from sensorium.space import SharedSpace
from sensorium.store.base import Store
from sensorium.store.records import Item

__all__ = ["AGREEMENT", "Hit", "search"]

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
    if item.labels:
        names = [lb for lb, _ in item.labels]
        confident = np.array([s for _, s in item.labels]) >= 0.1 * item.labels[0][1]
        sims = np.where(confident, space.text.encode(names) @ q, -np.inf)  # (L,)
        order = np.argsort(-sims)[: min(2, int(confident.sum()))]
        out["labels"] = [{"label": names[i], "score": round(item.labels[i][1], 3)} for i in order]
    if item.segments:
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
    if item.text:
        out["text"] = item.text[:160]
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
    if "labels" not in exp and hit.item.labels:
        exp["labels"] = [{"label": lb, "score": round(s, 3)} for lb, s in hit.item.labels[:2]]
    hit.explanation = exp


def search(store: Store, space: SharedSpace, query: Query, k: int = 10) -> list[Hit]:
    parts = embed_query(space, query)
    where = where_clause(query)
    candidates: dict[str, Item] = {}
    for part in parts.values():
        if part.weight > 0:
            for item, _ in store.search(part.vector, max(k * CANDIDATES, 50), where):
                candidates[item.id] = item
    if not candidates:
        return []
    items = list(candidates.values())
    matrix = np.stack([i.vector for i in items])  # (C, 384)
    sims = {name: matrix @ p.vector for name, p in parts.items()}  # name -> (C,)
    active = [name for name, p in parts.items() if p.weight > 0]
    total = sum(parts[name].weight for name in active)
    score = sum(parts[name].weight * sims[name] for name in active) / total  # (C,)
    if len(active) > 1:
        score = score + AGREEMENT * np.min(np.stack([sims[n] for n in active]), axis=0)
    order = np.argsort(-score)[:k]
    hits = [
        Hit(items[i], float(score[i]), {n: float(s[i]) for n, s in sims.items()}) for i in order
    ]
    for hit in hits:
        _explain(space, query, parts, hit)
    return hits
