"""Retrieval, agreement re-ranking and explanations.

Each query part retrieves candidates from the store; every candidate is then scored exactly
against every part (cosine), the parts are mixed by their weights, and items on which
several parts agree are lifted: ``score = weighted mean + AGREEMENT * min(part scores)``.
A video is stored as moments; it is returned once, at its best moment. A text query that asks
what is seen, heard or said ("where does she say budget") is scored against that part only.

Keywords: the text's words (its stop words left out when it has others) are also looked up in
the store's full-text index (file names, what was said, written or typed), and the two
rankings (meaning, keywords) are fused by reciprocal rank (``1 / (RRF_K + rank)`` summed;
Cormack et al. 2009), so "invoice" finds the recording that says it even when its vector
ranks it low. A keyword hit's vote is weighted by how the query's words are in it
(``_votes``): as written, by stem only ("location" for "located"), or by spelling only (a
misspelt or misheard word), and the keyword ranking is ordered by that weight first, then by
BM25. Reciprocal ranks alone barely tell the first keyword hit from the second (1/60 against
1/61), so the recording that says "located" lost to the one that says "location" whenever
the latter's vector ranked a little higher. ``Hit.score`` stays the meaning score; the order
is the fused one, except that for a plain text query an item whose text (typed, read or
said) is the query's own, up to case and spacing, comes first.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein

from sensorium.errors import UsageError
from sensorium.media.places import place_json
from sensorium.media.types import MediaKind
from sensorium.search.explain import Explanation, Keyword, Label, Moment
from sensorium.search.near import explain_near
from sensorium.search.query import (
    PERSON_ONLY,
    WORD,
    Query,
    QueryPart,
    embed_query,
    encode_texts,
    fold,
    keyword_terms,
    parse_negatives,
    parse_target,
    tokens,
)
from sensorium.search.vectors import Retriever, VectorIndex
from sensorium.space import SharedSpace
from sensorium.store.base import COLUMNS, Filter, Near, Snapshot, Store, fuzzy_edits
from sensorium.store.records import Item
from sensorium.video.summary import named_sounds

__all__ = [
    "AGREEMENT",
    "RRF_K",
    "SORTS",
    "SPELLING_VOTE",
    "STEM_VOTE",
    "STRONG_VOTE",
    "WEAK_BELOW",
    "Hit",
    "Page",
    "SearchState",
    "search",
    "search_page",
    "similar",
]

AGREEMENT = 0.25  # weight of the weakest part's score when several parts are given
CANDIDATES = 5  # each part retrieves k * CANDIDATES items (at least 50) before re-ranking
RRF_K = 60  # reciprocal rank fusion's constant (the usual one)
# A keyword hit's vote (times its reciprocal rank), the mean over the query's words of: 1 for
# a word as written, ``STEM_VOTE`` for one found only by stem, ``SPELLING_VOTE[edits]`` for
# one found only by spelling, which counts only where no keyword hit holds that word as
# written or by stem ("did you mean": a misspelt word, or one the transcript misheard).
STEM_VOTE = 0.5
SPELLING_VOTE = {1: 0.5, 2: 0.25}
# The weak cut (benchmarks/weakcut.py): a result of a plain text query whose meaning score is
# under WEAK_BELOW, and whose keyword vote is under STRONG_VOTE, is no good match.
WEAK_BELOW = 0.544141
STRONG_VOTE = 1.0


class SearchState:
    """What the searches of one collection keep between calls (one a ``Collection``, gone
    with it): the rankings pinned for their pages' cursors (``PINS``, ``PIN_SECONDS``), and
    the threads that look a query's words up while it is encoded."""

    def __init__(self) -> None:
        self._pins: OrderedDict[str, tuple[float, Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @cached_property
    def threads(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=4, thread_name_prefix="keywords")

    def pin(self, key: Any, ranking: Any) -> str:
        """Keep ``ranking`` for ``key`` (a query, its page size and order): its pin."""
        now = time.monotonic()
        pin = secrets.token_urlsafe(12)
        with self._lock:
            for old in [p for p, (t, _, _) in self._pins.items() if now - t > PIN_SECONDS]:
                del self._pins[old]
            self._pins[pin] = (now, key, ranking)
            while len(self._pins) > PINS:
                self._pins.popitem(last=False)
        return pin

    def pinned(self, pin: str, key: Any) -> Any:
        """The ranking kept under ``pin`` for ``key``, or None (gone, or another query's)."""
        with self._lock:
            found = self._pins.get(pin)
            if found is None or found[1] != key or time.monotonic() - found[0] > PIN_SECONDS:
                return None
            self._pins.move_to_end(pin)
            return found[2]


@dataclass
class Hit:
    item: Item
    score: float
    parts: dict[str, float]  # query modality -> cosine similarity
    explanation: Explanation = field(default_factory=Explanation)
    weak: bool = False  # no good match: under the weak cut (``WEAK_BELOW``)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.item.path, "score": round(self.score, 4), "type": self.item.kind,
            "id": self.item.id, "explanation": self.explanation.to_json(), "weak": self.weak,
        }  # fmt: skip
        moment = self.explanation.moment
        if moment:
            out["start"], out["end"] = moment.start, moment.end
        if self.item.place:  # where a photo was taken (GPS): city, region, country
            out["place"] = place_json(self.item.place, self.item.latitude, self.item.longitude)
        return out


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def _explain_text(
    space: SharedSpace, query: str, q: np.ndarray, item: Item, exp: Explanation
) -> None:
    """Which labels and which transcript line of the item are closest to the text query (their
    vectors come from ``encode_texts``' memory: ``_explain`` encodes all hits' at once)."""
    if item.labels and item.kind != MediaKind.VIDEO:  # a moment says what is seen, heard and said
        names = [lb for lb, _ in item.labels]
        confident = np.array([s for _, s in item.labels]) >= 0.1 * item.labels[0][1]
        sims = np.where(confident, encode_texts(space, names) @ q, -np.inf)  # (L,)
        order = np.argsort(-sims)[: min(2, int(confident.sum()))]
        exp.labels = [Label(names[i], round(item.labels[i][1], 3)) for i in order]
    if item.kind == MediaKind.VIDEO:
        _explain_moment(item, q, exp)
    elif item.segments:
        texts = [s["text"] for s in item.segments]
        best = int(np.argmax(encode_texts(space, texts) @ q))
        seg = item.segments[best]
        exp.transcript = seg["text"]
        exp.moment = Moment(seg["start"], seg["end"])
    words = _words(query) & _words(
        " ".join([item.transcript, item.text, *(lb for lb, _ in item.labels)])
    )
    exp.words = sorted(words)
    if item.text and item.kind in (
        MediaKind.IMAGE,
        MediaKind.VIDEO,
    ):  # an image's text is what was read in it
        exp.written = item.text[:160]
    elif item.text:
        exp.text = item.text[:160]


def _explain_moment(item: Item, q: np.ndarray | None, exp: Explanation) -> None:
    """A video moment: when, what was seen, heard and said, and which of them matched."""
    exp.moment = Moment(round(item.start, 2), round(item.end, 2))
    exp.seen = [lb for lb, _ in item.labels[:2]]
    exp.heard = [lb for lb, _ in named_sounds(item.heard, 2)]
    exp.said = item.transcript or None
    exp.written = item.text or None  # read in its frames
    if q is not None and item.part_vectors:
        sims = {name: float(v @ q) for name, v in item.part_vectors.items()}
        exp.matched = max(sims, key=lambda n: sims[n])
        exp.part_scores = {n: round(v, 4) for n, v in sims.items()}


def _labels(item: Item) -> list[Label]:
    """An item's two best labels, with their scores."""
    return [Label(lb, round(s, 3)) for lb, s in item.labels[:2]]


# A word of the query where it stands as a whole word in a folded text: not inside another
# ("mark" in "marked", "ve" in "you've"), but a file name's "_" parts words ("budget").
_BEFORE, _AFTER = r"(?<![^\W_])(?<![^\W_]')", r"(?![^\W_])(?!'[^\W_])"


@dataclass(frozen=True)
class _Match:
    """How a word of the query is in an item: which of its words, and where."""

    term: str  # the query's word
    word: str  # the item's
    edits: int  # 0 as written, -1 by stem, else by spelling
    where: dict[str, Any]  # {"in": "said", "at": 12.5}, {"in": "name"}, ...

    def vote(self) -> float:
        if self.edits == 0:
            return 1.0
        return STEM_VOTE if self.edits < 0 else SPELLING_VOTE.get(self.edits, 0.0)

    def keyword(self) -> Keyword:
        """The match as an explanation names it: the query's word too, where it was found
        in another form."""
        other = self.term if self.edits else None
        by = ("stem" if self.edits < 0 else "spelling") if self.edits else None
        return Keyword(self.word, self.where["in"], self.where.get("at"), other, by)


def _texts(item: Item) -> list[tuple[dict[str, Any], str]]:
    """An item's texts, folded, where an explanation names them: said, written or typed, the
    file name, the caption and keywords written in the file (and its folders' names). A video
    moment says when; a recording's line is found later (``_at``)."""
    said: dict[str, Any] = {"in": "said"}
    if item.kind == MediaKind.VIDEO:
        said["at"] = round(item.start, 2)
    typed = "written" if item.kind in (MediaKind.IMAGE, MediaKind.VIDEO) else "typed"
    return [(said, fold(item.transcript)), ({"in": typed}, fold(item.text)),
            ({"in": "name"}, fold(Path(item.path).name)), ({"in": "caption"}, fold(item.caption)),
            ({"in": "keywords"}, fold(" | ".join(item.keywords)))]  # fmt: skip


def _same_stem(a: str, b: str) -> bool:
    """Whether two words look like forms of one: the longer starts with the shorter, but for
    its last two letters at most, and with four letters at least (all of a shorter word):
    "numbers" and "number", "located" and "location", "run" and "running", "happy" and
    "happiness"; not "located" and "local". Only asked of what the stemmed index found, to
    point at the word it matched: English stemming is too irregular for a rule to do more."""
    short, shared = min(len(a), len(b)), 0
    for x, y in zip(a, b):
        if x != y:
            break
        shared += 1
    if "'" in a[:shared]:  # "you've", "you're": two contractions, not two forms of a word
        return False
    return shared >= min(4, short) and shared >= short - 2


def _find(term: str, texts: list[tuple[dict[str, Any], str]], spelling: bool) -> _Match | None:
    """The first text holding ``term`` as written, else by stem, else (with ``spelling``)
    the closest word within ``fuzzy_edits`` of it, as the keyword index finds it. Regular
    expressions over whole texts rather than their words: a keyword hit may be an hour's
    transcript (tokenising 50 such took 150 ms)."""
    written = re.compile(_BEFORE + re.escape(term) + _AFTER)
    for place, text in texts:
        if written.search(text):
            return _Match(term, term, 0, place)
    alike = re.compile(_BEFORE + re.escape(term[:3]) + r"[^\W_]*(?:'[^\W_]+)*")
    for place, text in texts:
        for word in alike.findall(text):
            if _same_stem(term, word):
                return _Match(term, word, -1, place)
    best: _Match | None = None
    most = fuzzy_edits(term) if spelling else 0  # as far as the keyword index looks
    for place, text in texts if most else ():
        for word in set(re.findall(WORD, text)):
            limit = best.edits - 1 if best else most
            edits = Levenshtein.distance(term, word, score_cutoff=limit)  # limit + 1: more
            if edits <= limit:
                best = _Match(term, word, edits, place)
    return best


def _votes(terms: list[str], hits: list[Item]) -> dict[str, tuple[float, _Match | None]]:
    """Each keyword hit's vote (the mean over ``terms`` of its best match's) and the match
    an explanation names (the best, of the word fewest hits hold: "forwarding" rather than
    "call"), by item id; a hit the index found but no word of which this can point at (a
    spelling match of a word other hits hold as written) has none."""
    texts = {item.id: _texts(item) for item in hits}
    found = {(t, i): _find(t, texts[i], spelling=False) for t in terms for i in texts}
    unmatched = {t for t in terms if not any(found[t, i] for i in texts)}
    for t, i in found:
        if t in unmatched:
            found[t, i] = _find(t, texts[i], spelling=True)
    held = {t: sum(found[t, i] is not None for i in texts) for t in terms}
    out: dict[str, tuple[float, _Match | None]] = {}
    for i in texts:
        matches = [m for t in terms if (m := found[t, i]) is not None and m.vote() > 0]
        if matches:
            vote = sum(m.vote() for m in matches) / len(terms)
            out[i] = vote, max(matches, key=lambda m: (m.vote(), -held[m.term]))
    return out


def _at(match: _Match, item: Item) -> Keyword:
    """The match as an explanation says it: for a word said in a recording, the start of
    the first line that says it."""
    out = match.keyword()
    if match.where.get("in") == "said" and out.at is None:
        word = re.compile(_BEFORE + re.escape(match.word) + _AFTER)
        for seg in item.segments:
            if word.search(fold(seg["text"])):
                return replace(out, at=round(float(seg["start"]), 2))
    return out


def _explain(
    space: SharedSpace, query: Query, parts: dict[str, QueryPart], hit: Hit, match: _Match | None
) -> None:
    exp = Explanation(parts={k: round(v, 4) for k, v in hit.parts.items()},
                      labels_heard=hit.item.kind == MediaKind.AUDIO)  # fmt: skip
    if query.text:
        _explain_text(space, query.text, parts["text"].vector, hit.item, exp)
        if match is not None:
            exp.keyword = _at(match, hit.item)
    exp.negative = list(query.negative)
    if (near := query.filters.near) is not None:
        exp.near = explain_near(near, hit.item)
    item_labels = {lb for lb, _ in hit.item.labels}
    for name in ("image", "audio", "like"):
        if name in parts:
            shared = [lb for lb, _ in parts[name].labels if lb in item_labels]
            if shared:
                exp.shared[name] = shared
    if hit.item.kind == MediaKind.VIDEO and exp.moment is None:
        _explain_moment(hit.item, None, exp)
    exp.target = query.target
    if not exp.labels and hit.item.kind != MediaKind.VIDEO:
        exp.labels = _labels(hit.item)
    hit.explanation = exp


def _prefetch(space: SharedSpace, query: Query, hits: list[Hit]) -> None:
    """Encode, in one batch, the label names and transcript lines the explanations compare
    with the query (remembered afterwards: most are the same labels again and again)."""
    if not query.text:
        return
    texts = [lb for h in hits if h.item.kind != MediaKind.VIDEO for lb, _ in h.item.labels]
    texts += [s["text"] for h in hits if h.item.kind != MediaKind.VIDEO for s in h.item.segments]
    encode_texts(space, texts)


def _target_sims(items: list[Item], q: np.ndarray, target: str) -> np.ndarray:
    """(C,) the query against each item's ``target`` part. An image with no text read in it
    is all "seen"; an item without the part ranks after every item that has it."""
    out = np.empty(len(items), np.float32)
    for i, item in enumerate(items):
        v = item.part_vectors.get(target)
        if v is None and item.kind == MediaKind.IMAGE and target == "seen":
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


def _keywords(
    store: Retriever, query: Query, terms: list[str], k: int, state: SearchState | None
) -> Future[list[tuple[Item, float]]] | None:
    """The keyword lookup of ``terms``, started in the state's threads: it needs no vector, so
    it runs while the query is encoded (the two take about 5 and 10 ms); without a state,
    here and now."""
    if not (terms and query.keywords and query.weights.get("text", 1.0) > 0):
        return None
    look = partial(store.keyword, " ".join(terms), max(k * CANDIDATES, 50), query.filters)
    if state is not None:
        return state.threads.submit(look)
    done: Future[list[tuple[Item, float]]] = Future()
    done.set_result(look())
    return done


def _candidates(
    store: Retriever,
    query: Query,
    parts: dict[str, QueryPart],
    k: int,
    keyword: Future[list[tuple[Item, float]]] | None,
) -> tuple[list[Item], list[Item]]:
    """(every candidate, the keyword hits best BM25 first): each part's nearest items, and
    the items whose words match the text's."""
    where: Filter = query.filters
    limit = max(k * CANDIDATES, 50)
    found: dict[str, Item] = {}
    for p in parts.values():
        if p.weight > 0:
            for item, _ in store.search(p.vector, limit, where):
                found[item.id] = item
    words: dict[str, Item] = {}
    for item, _ in keyword.result() if keyword else []:
        words.setdefault(item.id, found.setdefault(item.id, item))
    if query.like is not None:
        found = {i: item for i, item in found.items() if item.path != query.like.path}
        words = {i: item for i, item in words.items() if i in found}
    return list(found.values()), list(words.values())


def _keyword_ranking(
    terms: list[str], hits: list[Item], first: list[Item]
) -> dict[str, tuple[int, float, _Match | None]]:
    """Item id -> (keyword rank, vote, the match an explanation names) of the keyword hits
    that have a vote: the items ``first`` (whose text is the query's own), then by vote,
    then in ``hits``' (BM25) order."""
    ranked = list({i.id: i for i in [*first, *hits]}.values())
    votes = _votes(terms, ranked)
    top = {i.id for i in first}
    for item in first:  # an item whose text is the query's own has a full vote
        votes[item.id] = 1.0, votes.get(item.id, (0.0, None))[1]
    ids = [i.id for i in ranked if i.id in votes]
    ids.sort(key=lambda i: (i not in top, -votes[i][0]))  # stable: BM25 order within
    return {i: (rank, *votes[i]) for rank, i in enumerate(ids)}


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


@dataclass
class _Ranking:
    """Every file a query's candidates hold, best first (unexplained until shown)."""

    query: Query  # resolved: negatives and the part asked about taken out of the text
    parts: dict[str, QueryPart]
    hits: list[Hit]
    matches: dict[str, _Match | None]  # item id -> the keyword match an explanation names
    votes: dict[str, float] = field(default_factory=dict)  # item id -> its keyword vote


def _rank(
    store: Retriever, space: SharedSpace, query: Query, k: int, state: SearchState | None
) -> _Ranking:
    """The ranking of the query's candidates (``max(k * CANDIDATES, 50)`` a part, and the
    keyword hits): a video once, at its best moment; a hit weak (``_weak``) or not."""
    if query.impossible:
        return _Ranking(query, {}, [], {})
    query = _resolve(query)
    terms = keyword_terms(query.text) if query.text else []
    keyword = _keywords(store, query, terms, k, state)
    parts = embed_query(space, query)
    items, keyword_hits = _candidates(store, query, parts, k, keyword)
    if query.phrases:
        items = [i for i in items if _holds(i, query.phrases)]
        keyword_hits = [i for i in keyword_hits if _holds(i, query.phrases)]
    if not items:
        return _Ranking(query, parts, [], {})
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
    ids = np.array([i.id for i in items])  # the last tiebreak: one order, always
    order = np.lexsort((ids, -score))
    exact = _exact(query, parts, items)  # (C,) 2 the same text, 1 up to case and spacing
    # the keyword ranking puts those first, before its own order
    first = [items[i] for i in np.lexsort((ids, -score, -exact)) if exact[i]]
    keyword_ranks = _keyword_ranking(terms, keyword_hits, first) if keyword or first else {}
    if keyword_ranks:  # fuse the meaning ranking with the keyword ranking
        fused = np.zeros(len(items))
        fused[order] = 1.0 / (RRF_K + np.arange(len(items)))
        for i, item in enumerate(items):
            if item.id in keyword_ranks:
                rank, vote, _ = keyword_ranks[item.id]
                fused[i] += vote / (RRF_K + rank)
        # An item whose text is the query's own comes first. Fused ranks alone can put a
        # near-identical text before it: the encoder ignores case and accents ("resume"
        # and "résumé" are one vector) and BM25 ties what stems alike ("Caesar's",
        # "Caesars", "Caesar"), in no particular order (benchmarks/texts.py: 0.78 first).
        order = np.lexsort((ids, -score, -fused, -exact))
    plain = active == ["text"] and query.target is None  # what the weak cut is measured on
    plain = plain and not (query.filters.person and query.text == PERSON_ONLY)
    hits: list[Hit] = []
    files: set[str] = set()
    for i in order:
        if items[i].path in files:
            continue  # a video is returned once, at its best moment
        files.add(items[i].path)
        part_scores = {n: float(s[i]) for n, s in sims.items()}
        vote = 0.0
        if items[i].id in keyword_ranks:
            rank, vote, _ = keyword_ranks[items[i].id]
            part_scores["keyword"] = vote / (1 + rank)
        weak = plain and not exact[i] and _weak(float(score[i]), vote)
        hits.append(Hit(items[i], float(score[i]), part_scores, weak=weak))
    matches = {i: m for i, (_, _, m) in keyword_ranks.items()}
    return _Ranking(query, parts, hits, matches, {i: v for i, (_, v, _) in keyword_ranks.items()})


def _weak(score: float, vote: float) -> bool:
    """A result of a plain text query that is no good match: its meaning score under
    ``WEAK_BELOW`` and its words not the query's (a keyword vote under ``STRONG_VOTE``)."""
    return score < WEAK_BELOW and vote < STRONG_VOTE


def _holds(item: Item, phrases: tuple[str, ...]) -> bool:
    """Whether the item's words (its name, what is said, written or typed, its caption and
    keywords) hold each phrase, word for word (folded as keyword search folds them)."""
    name = re.sub(r"[_.\-]+", " ", Path(item.path).name)
    words = " ".join(tokens(" ".join([name, item.transcript, item.text, item.caption,
                                       *item.keywords])))  # fmt: skip
    return all(f" {' '.join(tokens(p))} " in f" {words} " for p in phrases)


def _show(space: SharedSpace, ranking: _Ranking, hits: list[Hit]) -> list[Hit]:
    """Explain the hits that are shown."""
    _prefetch(space, ranking.query, hits)
    for hit in hits:
        match = ranking.matches.get(hit.item.id)
        _explain(space, ranking.query, ranking.parts, hit, match)
    return hits


def search(
    store: Retriever, space: SharedSpace, query: Query, k: int = 10,
    state: SearchState | None = None,
) -> list[Hit]:  # fmt: skip
    """The ``k`` best files for the query; for a video, its best moment. A result of a plain
    text query that is no good match is ``weak`` (``WEAK_BELOW``). ``state``: the
    collection's (``SearchState``), whose threads look the words up meanwhile. A query of
    filters only lists the files that pass them, newest first (``browse``)."""
    if query.browse:
        return browse(store, query, k, state=state).hits
    ranking = _rank(store, space, query, k, state)
    return _show(space, ranking, ranking.hits[:k])


@dataclass
class Page:
    """One page of a ranking: ``hits[offset : offset + k]`` of ``total`` results, of which
    ``weak`` are no good match (on any page). ``cursor`` asks for the next page of the same
    ranking, pinned (None after the last page)."""

    hits: list[Hit]
    total: int
    offset: int
    weak: int
    sort: str
    cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"results": [h.to_json() for h in self.hits], "total": self.total,
                "offset": self.offset, "weak": self.weak, "sort": self.sort,
                "cursor": self.cursor}  # fmt: skip


# The order of a ranking's results: by relevance, or newest first by the date taken (EXIF)
# or added (``ingested_at``); a date sort keeps the good matches before the weak ones and
# breaks ties by relevance, then by id.
SORTS: dict[str, Callable[[Hit], float] | None] = {
    "relevance": None,
    "taken": lambda h: h.item.taken,
    "added": lambda h: h.item.ingested_at,
}
PINS = 64  # rankings kept for their cursors, the least recently used dropped first
PIN_SECONDS = 1800.0  # and for at most this long after the first page
CURSOR = re.compile(r"([A-Za-z0-9_-]{8,32})\.(\d{1,9})")


def _sorted(ranking: _Ranking, sort: str) -> _Ranking:
    key = SORTS[sort]
    if key is None:
        return ranking
    order = {id(h): i for i, h in enumerate(ranking.hits)}
    hits = sorted(ranking.hits, key=lambda h: (h.weak, -key(h), order[id(h)]))
    return replace(ranking, hits=hits)


def _identity(query: Query) -> tuple[Any, ...]:
    """What tells one query from another (its item by id: an Item holds arrays)."""
    plain = (query.text, query.target, query.negative, query.filters, query.keywords,
             query.phrases, query.impossible)  # fmt: skip
    return (*plain, tuple(sorted(query.weights.items())), tuple(sorted(query.media.items())),
            query.like and query.like.id)  # fmt: skip


def _base(store: Retriever) -> Store:
    """The store a retriever reads (itself, or the one a serving index holds in memory): a
    pin belongs to it, whichever of the two answered the page."""
    return store.store if isinstance(store, VectorIndex) else store  # type: ignore[return-value]


def _cursor(cursor: str) -> tuple[str, int]:
    """A page's ``cursor`` -> (its pin, the offset it goes on from)."""
    m = CURSOR.fullmatch(cursor)
    if m is None:
        raise UsageError(f"cursor {cursor[:40]!r} is not one a page gave")
    return m[1], int(m[2])


def search_page(
    store: Retriever,
    space: SharedSpace,
    query: Query,
    k: int = 10,
    offset: int = 0,
    sort: str = "relevance",
    cursor: str | None = None,
    state: SearchState | None = None,
) -> Page:
    """Results ``offset`` to ``offset + k`` of the query's ranking (its candidates for pages
    of ``k``: ``search``'s first ``k`` are the first page), in ``sort`` order.

    The ranking is pinned: the page's ``cursor`` asks for the next page of this very
    ranking, so files added, changed or removed meanwhile (a watched folder) neither repeat
    nor skip a result, in the ``state`` the pin is kept in (the collection's). A cursor holds
    the page's position; one that the state no longer knows (``PINS``, ``PIN_SECONDS``; or
    no state) or that was made for another query or order ranks the query again and goes on
    from its position."""
    state = state or SearchState()
    if k < 1:
        raise UsageError("k must be at least 1")
    if offset < 0:
        raise UsageError("offset must be 0 or more")
    if sort not in SORTS:
        raise UsageError(f"sort must be one of {', '.join(SORTS)}")
    if query.browse:
        return browse(store, query, k, offset, sort, cursor, state)
    key = (id(_base(store)), _identity(query), k, sort)
    ranking = None
    if cursor is not None:
        pin, offset = _cursor(cursor)
        pinned = state.pinned(pin, key)
        ranking = pinned if isinstance(pinned, _Ranking) else None
    else:
        pin = ""
    if ranking is None:
        ranking = _sorted(_rank(store, space, query, k, state), sort)
        pin = state.pin(key, ranking)
    hits = [replace(h, explanation=Explanation()) for h in ranking.hits[offset : offset + k]]
    end = offset + len(hits)
    more = f"{pin}.{end}" if end < len(ranking.hits) else None
    weak = sum(h.weak for h in ranking.hits)
    return Page(_show(space, ranking, hits), len(ranking.hits), offset, weak, sort, more)


@dataclass(frozen=True)
class _Browsed:
    """The files a filter-only query passes, in order: row positions of one pinned version
    (rows keep their positions while a snapshot is held)."""

    snapshot: Snapshot
    rows: np.ndarray  # (F,) int64, one row a file, in the page order


def browse(
    store: Retriever, query: Query, k: int = 10, offset: int = 0, sort: str = "relevance",
    cursor: str | None = None, state: SearchState | None = None,
) -> Page:  # fmt: skip
    """A query of filters only (``Query.browse``): every file that passes them, newest first
    by the date taken (``sort="taken"``: files without one after, newest added first) or by
    the date added (``"added"``, and ``"relevance"``, which has nothing to rank by here). A
    video is its first moment. Pinned as a ranking is: its ``cursor`` pages the same files."""
    state = state or SearchState()
    key = ("browse", id(_base(store)), _identity(query), k, sort)
    found = None
    if cursor is not None:
        pin, offset = _cursor(cursor)
        found = state.pinned(pin, key)
    if not isinstance(found, _Browsed):
        found = _browsed(store, query, sort)
        pin = state.pin(key, found)
    rows = found.rows[offset : offset + k]
    items = found.snapshot.items(rows)  # (R,) in the order given
    near = query.filters.near
    hits = [Hit(item, 1.0, {}, _browse_reason(item, near)) for item in items]
    end = offset + len(hits)
    more = f"{pin}.{end}" if end < len(found.rows) else None
    return Page(hits, len(found.rows), offset, 0, sort, more)


def _browsed(store: Retriever, query: Query, sort: str) -> _Browsed:
    """The rows of the files passing the query's filters, one a file, in ``sort`` order."""
    snap = _base(store).snapshot()
    if query.impossible:
        return _Browsed(snap, np.zeros(0, np.int64))
    table = snap.columns([*COLUMNS, "segment"])
    rows = np.flatnonzero(query.filters.mask({c: table.column(c) for c in COLUMNS}))
    # one row a file: its first moment (rows by path, then segment; the first of each path)
    path = table.column("path").take(rows).to_numpy(zero_copy_only=False)
    segment = table.column("segment").take(rows).to_numpy(zero_copy_only=False)
    by_path = np.lexsort((segment, path))
    ordered = path[by_path]
    first = np.ones(len(rows), bool)
    first[1:] = ordered[1:] != ordered[:-1]
    rows, path = rows[by_path[first]], ordered[first]  # (F,) each
    added = table.column("ingested_at").take(rows).to_numpy(zero_copy_only=False)
    if sort == "taken":
        taken = table.column("taken").take(rows).to_numpy(zero_copy_only=False).astype(float)
        known = ~np.isnan(taken)
        order = np.lexsort((path, -added, -np.nan_to_num(taken, nan=0.0), ~known))
    else:  # newest added first; the path breaks ties (a batch shares its time)
        order = np.lexsort((path, -added))
    return _Browsed(snap, rows[order])


def _browse_reason(item: Item, near: Near | None) -> Explanation:
    """What a browsed file is: its labels (a video: its first moment), how near it is."""
    exp = Explanation(labels_heard=item.kind == MediaKind.AUDIO)
    if item.kind == MediaKind.VIDEO:
        _explain_moment(item, None, exp)
    else:
        exp.labels = _labels(item)
    if near is not None:
        exp.near = explain_near(near, item)
    return exp


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
        exp = Explanation(
            parts={"item": round(score, 4)}, labels_heard=other.kind == MediaKind.AUDIO
        )
        shared = [lb for lb, _ in [*other.labels, *other.heard] if lb in mine]
        if shared:
            exp.shared["item"] = list(dict.fromkeys(shared))[:3]
        if other.kind == MediaKind.VIDEO:
            _explain_moment(other, None, exp)
        else:
            exp.labels = _labels(other)
        hits.append(Hit(other, score, {"item": score}, exp))
        if len(hits) == k:
            break
    return hits
