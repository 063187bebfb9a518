"""The serving index against the store's exact search: same rows, same filters, new commits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorium.encoders import TextEncoder
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.search import vectors
from sensorium.search.vectors import VectorIndex
from sensorium.store import Item, LanceStore
from sensorium.store.base import Filter


@pytest.fixture(scope="module")
def caption_vectors() -> np.ndarray:
    return TextEncoder().encode([s.caption for s in tuxpaint_stamps()[:300]])  # (N, 384), real


def _mix(base: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(base), (2, n))
    v = base[i] + base[j] + rng.normal(0, 0.01, (n, 384))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _items(v: np.ndarray, offset: int = 0) -> list[Item]:
    kinds = ("image", "audio", "text")
    return [Item(id=f"i{offset + i}", path=f"/x/{kinds[i % 3]}/{offset + i}.dat", sha256="",
                 size=i, mtime=0.0, kind=kinds[i % 3], vector=x, duration=float(i % 50),
                 camera="Canon EOS" if i % 7 == 0 else "", taken=1e9 + i if i % 2 else 0.0)
            for i, x in enumerate(v)]  # fmt: skip


def _ids(hits: list[tuple[Item, float]]) -> list[str]:
    return [it.id for it, _ in hits]


FILTERS = [Filter(), Filter(kind="audio"), Filter(path="*/image/1*.dat"),
           Filter(min_duration=10, max_duration=20, kind="image"), Filter(camera="canon"),
           Filter(min_size=100, max_size=900), Filter(taken_after=1e9 + 500)]  # fmt: skip


@pytest.mark.parametrize("graph", [False, True])
def test_same_rows_as_exact_search_with_filters(
    tmp_path: Path, caption_vectors: np.ndarray, graph: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if graph:  # the IVF path on a small table; narrow filters still go exact
        monkeypatch.setattr(vectors, "ANN_FROM", 1000)
        monkeypatch.setattr(vectors, "EXACT_BELOW", 100)
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(_mix(caption_vectors, 3000, 0)))
    index = VectorIndex(store)
    recalls = []
    for where in FILTERS:
        assert set(where.mask(index.sync().columns).nonzero()[0]) == {
            int(it.id[1:]) for it in store._rows(where.sql() or "true")
        }, where  # the SQL and the mask select the same rows
        for q in caption_vectors[:20]:
            exact = store.search(q, 10, where)
            served = index.search(q, 10, where)
            if not graph:
                assert _ids(served) == _ids(exact), where
                np.testing.assert_allclose([s for _, s in served], [s for _, s in exact],
                                           atol=1e-5)  # fmt: skip
            recalls.append(len(set(_ids(served)) & set(_ids(exact))) / max(len(exact), 1))
            assert all(where.mask({c: _col(it, c) for c in ("kind", "path", "duration", "size",
                       "ingested_at", "taken", "camera")})[0] for it, _ in served)  # fmt: skip
    assert np.mean(recalls) >= 0.95, np.mean(recalls)


def _col(item: Item, name: str) -> object:
    import pyarrow as pa

    return pa.array([getattr(item, name)])


def test_follows_new_commits_and_deletes(tmp_path: Path, caption_vectors: np.ndarray,
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(vectors, "ANN_FROM", 500)
    store = LanceStore(tmp_path / "db")
    first = _mix(caption_vectors, 800, 1)
    store.upsert(_items(first))
    index = VectorIndex(store)
    assert index.search(first[3], 1)[0][0].id == "i3"
    graph = index.sync().graph
    # a new row, a changed row (same id, new vector) and a deleted file, in three commits
    store.upsert(_items(caption_vectors[10:11], offset=800))
    changed = _items(caption_vectors[150:151], offset=5)[0]
    changed.ingested_at = 1.0
    store.upsert([changed])
    store.delete(["/x/audio/7.dat"])
    assert index.search(caption_vectors[10], 1)[0][0].id == "i800"
    assert index.search(caption_vectors[150], 1)[0][0].id == "i5"
    assert "i7" not in _ids(index.search(first[7], 10))
    assert index.sync().graph is graph and index.sync().dead == 2  # updated, not rebuilt
    assert index.get("i5") is not None and index.get("/x/image/9.dat").id == "i9"  # type: ignore[union-attr]
    # another process's commit is seen once the store reads the new version
    other = LanceStore(tmp_path / "db")
    other.upsert(_items(caption_vectors[250:251], offset=900))
    import time

    time.sleep(1.1)  # store/lance.py READ_CONSISTENCY
    assert index.search(caption_vectors[250], 1)[0][0].id == "i900"


def test_searches_go_on_while_a_new_version_is_read(
    tmp_path: Path, caption_vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a new version (4 s at a million rows) does not hold the search lock: a search
    meanwhile answers from the version before, and the next one after sees the new rows."""
    import threading

    monkeypatch.setattr(vectors, "ANN_FROM", 500)
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(_mix(caption_vectors, 800, 1)))
    index = VectorIndex(store)
    index.sync()
    store.upsert(_items(caption_vectors[10:11], offset=800))
    reading, release = threading.Event(), threading.Event()
    snapshot = store.snapshot

    def slow_snapshot():  # type: ignore[no-untyped-def]
        reading.set()
        assert release.wait(30)
        return snapshot()

    monkeypatch.setattr(store, "snapshot", slow_snapshot)
    loader = threading.Thread(target=index.sync)
    loader.start()
    assert reading.wait(30)
    answered: list[str] = []
    found: list[Item | None] = []

    def search() -> None:
        answered.extend(_ids(index.search(caption_vectors[10], 1)))
        found.append(index.get("i3"))  # reads by id go on too

    searcher = threading.Thread(target=search)
    searcher.start()
    searcher.join(10)
    assert not searcher.is_alive() and answered and answered != ["i800"]  # the old version
    assert found and found[0] is not None and found[0].id == "i3"
    release.set()
    loader.join(30)
    monkeypatch.setattr(store, "snapshot", snapshot)
    assert _ids(index.search(caption_vectors[10], 1)) == ["i800"]
