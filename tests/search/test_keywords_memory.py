"""The serving index's keyword part (search/keywords.py) against the store's full-text search
(LanceDB, BM25): the same hits in the same order with the same scores, on real texts (every
Tux Paint caption, in each of its languages), with filters, misspelt words, and after new
commits and deletions."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import numpy as np
import pytest

from sensorium.eval.datasets import tuxpaint_captions
from sensorium.search import keywords
from sensorium.search.vectors import VectorIndex
from sensorium.store import Item, LanceStore, lance
from sensorium.store.base import Filter


@pytest.fixture(scope="module")
def captions() -> list[str]:
    found = tuxpaint_captions()
    if len(found) < 1000:
        pytest.skip("Tux Paint's captions are not installed (scripts/setup.sh)")
    return found


def _items(texts: list[str], offset: int = 0) -> list[Item]:
    rng = np.random.default_rng(offset)
    kinds = ("image", "audio", "text")
    vectors = rng.normal(0, 1, (len(texts), 384)).astype(np.float32)
    out = []
    for i, (text, v) in enumerate(zip(texts, vectors)):
        n = offset + i
        name = re.sub(r"\W+", "_", text)[:30]
        out.append(Item(id=f"i{n}", path=f"/x/{kinds[n % 3]}/{n:05d}_{name}.txt", sha256="",
                        size=n, mtime=0.0, kind=kinds[n % 3], text=text,
                        vector=v / np.linalg.norm(v)))  # fmt: skip
    return out


def _queries(texts: list[str], n: int, seed: int) -> list[str]:
    """Words of the texts as people type them: one to four, some misspelt (a letter dropped
    or doubled), some in capitals."""
    rng = random.Random(seed)
    words = [w for t in texts for w in re.findall(r"[\w']+", t)]
    out = []
    for _ in range(n):
        picked = rng.sample(words, rng.randint(1, 4))
        if rng.random() < 0.3:
            w = picked[0]
            i = rng.randrange(len(w))
            picked[0] = w[:i] + w[i + 1 :] if rng.random() < 0.5 else w[:i] + w[i] + w[i:]
        if rng.random() < 0.2:
            picked = [w.upper() for w in picked]
        out.append(" ".join(picked))
    return out


def _ready(index: VectorIndex, seconds: float = 120) -> None:
    """Wait for the keyword index to be of the index's latest state."""
    st = index.sync()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        kw = index._keywords
        if kw is not None and (kw.version, kw.epoch) == (st.snapshot.version, st.epoch):
            return
        time.sleep(0.05)
    raise AssertionError("the keyword index did not follow the table")


def _same(served: list[tuple[Item, float]], stored: list[tuple[Item, float]], what: str) -> None:
    """The same scores in the same order, and the same items but within ties (whose order
    LanceDB leaves open) and at the cut (where a tie may be cut either way)."""
    a = np.array([s for _, s in served], np.float32)
    b = np.array([s for _, s in stored], np.float32)
    assert len(a) == len(b), what
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=what)
    ours = {it.id: s for it, s in served}
    theirs = {it.id: s for it, s in stored}
    cut = b.min() if len(b) else 0.0
    for key in ours.keys() ^ theirs.keys():  # only in one list: tied at the cut
        score = ours.get(key, theirs.get(key))
        assert score is not None and abs(score - cut) <= 1e-5 * max(1.0, cut), (what, key)
    for key in ours.keys() & theirs.keys():
        assert abs(ours[key] - theirs[key]) <= 1e-5 * max(1.0, theirs[key]), (what, key)


FILTERS = [Filter(), Filter(kind="audio"), Filter(path="*/image/*")]


def test_same_ranking_as_the_store(tmp_path: Path, captions: list[str]) -> None:
    rng = random.Random(0)
    texts = rng.sample(captions, min(len(captions), 4000))
    store = LanceStore(tmp_path / "db")
    for start in range(0, 3000, 500):
        store.upsert(_items(texts[start : start + 500], start))
    store.maintain()  # the keyword indices, over every row
    index = VectorIndex(store)
    _ready(index)
    queries = _queries(texts[:3000], 150, 1)
    queries += ["a", "A cat", "the", "numbers", "Ballon", "café", "coffee cup", "x-ray", "don't"]
    for where in FILTERS:
        for q in queries:
            _same(index.keyword(q, 50, where), store.keyword(q, 50, where), f"{q!r} {where}")

    # A commit of new rows: the keyword index follows it, statistics and all, once
    # LanceDB's index covers the same rows.
    store.upsert(_items(texts[3000:3300], 3000))
    store.maintain()
    _ready(index)
    queries = _queries(texts[100:3300], 80, 2)
    for q in queries:
        _same(index.keyword(q, 50), store.keyword(q, 50), q)


def test_deleted_and_replaced_rows(tmp_path: Path, captions: list[str]) -> None:
    """Rows deleted or replaced are not found again, and still count in the statistics, as
    in LanceDB's index: the same scores."""
    texts = random.Random(4).sample(captions, 2000)
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(texts))
    store.maintain()
    index = VectorIndex(store)
    _ready(index)
    store.delete([it.path for it in _items(texts[:200])])
    store.maintain()  # LanceDB's index still counts the deleted rows
    _ready(index)
    gone = {f"i{n}" for n in range(200)}
    for q in _queries(texts, 40, 6):
        served = index.keyword(q, 50)
        assert not any(it.id in gone for it, _ in served), q
        _same(served, store.keyword(q, 50), q)
    replaced = _items(texts[200:300], 200)
    for it in replaced:
        it.text, it.mtime = texts[-1 - int(it.id[1:])], 1.0  # another text, a new mtime
    store.upsert(replaced)
    store.maintain()  # a compaction: now LanceDB's index counts the live rows only
    _ready(index)
    for q in [*_queries(texts, 80, 2), *_queries(texts[1700:], 20, 5)]:
        served = index.keyword(q, 50)
        assert not any(it.id in gone for it, _ in served), q
        _same(served, store.keyword(q, 50), q)


def test_without_the_keyword_index_the_store_answers(tmp_path: Path, captions: list[str]) -> None:
    """A collection before its first ``maintain`` has no keyword index: the store scans, and
    the serving index hands the query on to it."""
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(captions[:300]))
    index = VectorIndex(store)
    index.sync()
    time.sleep(0.2)
    assert index._keywords is None
    for q in _queries(captions[:300], 20, 3):
        assert [it.id for it, _ in index.keyword(q, 20)] == [
            it.id for it, _ in store.keyword(q, 20)
        ]


def test_settings_as_the_store_s() -> None:
    assert keywords.FUZZY_BOOST == lance.FUZZY_BOOST
    words, verbatim = (config for _, config in lance.KEYWORD_INDICES.values())
    assert words.stem and not verbatim.stem


def test_kept_with_the_collection(
    tmp_path: Path, captions: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keyword index is written beside the tables (``items.keywords``) and read back by a
    new process of the same table version: the same answers, nothing tokenised; after
    another commit the file is of an older version and is built anew."""
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(captions[:1500]))
    store.maintain()
    saved = tmp_path / "db" / "items.ivf"
    first = VectorIndex(store, saved)
    _ready(first)
    path = saved.with_name(keywords.FILE_NAME)
    end = time.monotonic() + 60
    while not path.exists():  # written by the thread that built it, just after
        assert time.monotonic() < end
        time.sleep(0.05)
    queries = _queries(captions[:1500], 40, 7)
    expected = [[(it.id, s) for it, s in first.keyword(q, 50)] for q in queries]

    def never(*_: object, **__: object) -> None:
        raise AssertionError("built again")

    with monkeypatch.context() as m:
        m.setattr(keywords.Keywords, "build", classmethod(never))
        second = VectorIndex(store, saved)
        _ready(second)
        assert [[(it.id, s) for it, s in second.keyword(q, 50)] for q in queries] == expected
    store.upsert(_items(captions[1500:1600], 1500))
    store.maintain()
    third = VectorIndex(store, saved)
    _ready(third)  # built: the file is of the version before
    for q in queries[:10]:
        _same(third.keyword(q, 50), store.keyword(q, 50), q)
