"""The serving index without ``serve()`` (built in the background from a collection's second
search) and its lists kept beside the tables (``items.ivf``): the same hits as the store, used
whole only for its table version, ignored with a warning when damaged."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

import sensorium
from sensorium.encoders import TextEncoder
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.search import persisted, vectors
from sensorium.search.vectors import VectorIndex
from sensorium.store import Item, LanceStore
from sensorium.store.base import Filter

FILTERS = [Filter(), Filter(kind="audio"), Filter(path="*/image/1*.dat")]


@pytest.fixture(scope="module")
def captions() -> tuple[list[str], np.ndarray]:
    texts = [s.caption for s in tuxpaint_stamps()[:200]]
    return texts, TextEncoder().encode(texts)  # (N, 384), real


def _mix(base: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(base), (2, n))
    v = base[i] + base[j] + rng.normal(0, 0.01, (n, 384))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _items(v: np.ndarray, offset: int = 0, at: float = 0.0) -> list[Item]:
    kinds = ("image", "audio", "text")
    return [Item(id=f"i{offset + i}", path=f"/x/{kinds[i % 3]}/{offset + i}.dat", sha256="",
                 size=i, mtime=0.0, kind=kinds[i % 3], vector=x, ingested_at=at)
            for i, x in enumerate(v)]  # fmt: skip


def _answers(index: VectorIndex, queries: np.ndarray) -> list[list[tuple[str, float]]]:
    return [[(it.id, round(s, 5)) for it, s in index.search(q, 10, where)]
            for where in FILTERS for q in queries]  # fmt: skip


@pytest.fixture()
def ivf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The IVF path on a small table (2,000 rows: 64 lists)."""
    monkeypatch.setattr(vectors, "ANN_FROM", 1000)
    monkeypatch.setattr(vectors, "EXACT_BELOW", 100)


def test_a_collection_switches_to_the_index_in_the_background_with_the_same_hits(
    tmp_path: Path, captions: tuple[list[str], np.ndarray]
) -> None:
    texts, vecs = captions
    store = LanceStore(tmp_path / "db")
    store.upsert([Item(id=f"t{i}", path=f"/t/{i}.txt", sha256="", size=1, mtime=0.0, kind="text",
                       vector=v, text=t) for i, (t, v) in enumerate(zip(texts, vecs))])  # fmt: skip
    plain = sensorium.open(tmp_path / "db")
    plain.auto_serve = False  # the store's answers, always
    coll = sensorium.open(tmp_path / "db")
    queries = [t.lower() for t in texts[:30:3]] + ["a red fruit", "an animal that swims"]

    def hits(c: sensorium.Collection, q: str) -> list[tuple[str, float]]:
        return [(h.item.id, round(h.score, 4)) for h in c.search(q, k=5)]

    first = hits(coll, queries[0])
    assert coll._building is None and coll.index is None  # a one-shot search builds nothing
    second = hits(coll, queries[1])
    assert coll._building is not None
    coll._building.join(60)
    assert coll.index is not None and coll.retriever is coll.index  # switched
    assert [first, second] == [hits(plain, q) for q in queries[:2]]
    assert [hits(coll, q) for q in queries] == [hits(plain, q) for q in queries]
    assert plain.index is None and plain._building is None
    assert not (tmp_path / "db" / persisted.FILE_NAME).exists()  # exact scans: nothing to keep


def test_a_saved_index_answers_as_a_trained_one(
    tmp_path: Path, captions: tuple[list[str], np.ndarray], ivf: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _, base = captions
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(_mix(base, 2000, 0)))
    saved = tmp_path / "db" / persisted.FILE_NAME
    trained = VectorIndex(store, saved)
    assert trained.sync().graph is not None and saved.is_file()
    reread = persisted.load(saved)
    assert reread is not None and reread.version == store.version()
    written = saved.stat().st_mtime_ns
    loaded = VectorIndex(LanceStore(tmp_path / "db"), saved)
    monkeypatch.setattr(vectors, "_train", lambda *_: pytest.fail("trained again"))
    st = loaded.sync()
    assert st.graph.ntotal == 2000 and saved.stat().st_mtime_ns == written  # read, not rewritten
    queries = base[:25]
    assert _answers(loaded, queries) == _answers(trained, queries)
    monkeypatch.setattr(vectors, "ANN_FROM", 10**9)  # no graph: an exact scan of every row
    exact = _answers(VectorIndex(store), queries)
    recall = np.mean([len({a for a, _ in x} & {b for b, _ in y}) / max(len(y), 1)
                      for x, y in zip(_answers(loaded, queries), exact)])  # fmt: skip
    assert recall >= 0.9, recall  # 64 lists of 31 rows, filters too (at 1M: benchmarks/search.py)


def test_a_commit_after_the_file_makes_it_stale(
    tmp_path: Path, captions: tuple[list[str], np.ndarray], ivf: None
) -> None:
    """Another process's commit after the file was written (a new row, a row with a new
    vector): the next index reads every vector from the table, keeps the file's centroids
    and unchanged rows' lists, and writes the file again for the new version."""
    _, base = captions
    store = LanceStore(tmp_path / "db")
    first = _mix(base, 2000, 1)
    store.upsert(_items(first))
    saved = tmp_path / "db" / persisted.FILE_NAME
    VectorIndex(store, saved).sync()
    before = persisted.load(saved)
    assert before is not None
    other = LanceStore(tmp_path / "db")  # another process
    other.upsert(_items(base[5:6], offset=2000, at=1.0))  # a new row
    changed = _items(base[150:151], offset=7, at=2.0)  # i7 again, with another vector
    other.upsert(changed)
    index = VectorIndex(LanceStore(tmp_path / "db"), saved)
    st = index.sync()
    assert st.snapshot.version > before.version
    hit, _ = index.search(base[150], 1)[0]
    assert hit.id == "i7" and np.allclose(hit.vector, changed[0].vector)  # not the file's
    assert index.search(first[7], 10)[0][0].id != "i7"
    assert index.search(base[5], 1)[0][0].id == "i2000"
    after = persisted.load(saved)
    assert after is not None and after.version == st.snapshot.version
    np.testing.assert_array_equal(after.centroids, before.centroids)  # not trained again
    row = {k: r for r, k in enumerate(after.keys.column("id").to_pylist())}
    np.testing.assert_array_equal(after.vectors[row["i7"]], changed[0].vector)
    kept = [row[f"i{i}"] for i in range(2000) if i != 7]
    old = {k: r for r, k in enumerate(before.keys.column("id").to_pylist())}
    was = [old[f"i{i}"] for i in range(2000) if i != 7]
    np.testing.assert_array_equal(after.lists[kept], before.lists[was])


def _section_start(data: bytearray, name: str) -> int:
    length, _ = persisted._HEAD.unpack_from(data, len(persisted.MAGIC))
    head = len(persisted.MAGIC) + persisted._HEAD.size
    header = json.loads(bytes(data[head : head + length]))
    first = -(-(head + length) // persisted.ALIGN) * persisted.ALIGN
    return first + next(s["offset"] for s in header["sections"] if s["name"] == name)  # type: ignore[no-any-return]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "header"])
def test_a_damaged_file_is_ignored_with_a_warning_and_written_again(
    tmp_path: Path, captions: tuple[list[str], np.ndarray], ivf: None, damage: str
) -> None:
    _, base = captions
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(_mix(base, 2000, 2)))
    saved = tmp_path / "db" / persisted.FILE_NAME
    trained = VectorIndex(store, saved)
    trained.sync()
    data = bytearray(saved.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped":  # one bit of one vector
        data[_section_start(data, "vectors") + 384 * 4 * 1234 + 17] ^= 0x10
    elif damage == "garbage":
        data = bytearray(b"not an index")
    else:
        data[40] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="ignored and built again"):
        index = VectorIndex(LanceStore(tmp_path / "db"), saved)
        index.sync()
    assert _answers(index, base[:10]) == _answers(trained, base[:10])
    assert persisted.load(saved) is not None  # whole again


def test_a_writer_killed_mid_write_leaves_the_old_file(
    tmp_path: Path, captions: tuple[list[str], np.ndarray], ivf: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A write stopped before its rename (here by an exception; a SIGKILL stops it the same
    way, with its temporary file left) keeps the old file whole."""
    _, base = captions
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(_mix(base, 2000, 3)))
    saved = tmp_path / "db" / persisted.FILE_NAME
    VectorIndex(store, saved).sync()
    old = saved.read_bytes()
    store.upsert(_items(base[:1], offset=5000, at=1.0))

    def dies(*_: object) -> None:
        raise KeyboardInterrupt  # as a kill between the write and the rename

    with monkeypatch.context() as m, pytest.raises(KeyboardInterrupt):
        m.setattr(persisted.os, "replace", dies)
        VectorIndex(store, saved).sync()
    assert saved.read_bytes() == old and persisted.load(saved) is not None
    assert not list(saved.parent.glob(f".{saved.name}.*.tmp"))
    # a SIGKILL leaves its temporary file: removed once it is old, by the next writer
    left = saved.with_name(f".{saved.name}.123.dead.tmp")
    left.write_bytes(b"half")
    os.utime(left, (time.time() - 2 * persisted.STALE_TMP_S,) * 2)
    fresh = saved.with_name(f".{saved.name}.456.live.tmp")
    fresh.write_bytes(b"half")
    VectorIndex(store, saved).sync()
    assert not left.exists() and fresh.exists()
    loaded = persisted.load(saved)
    assert loaded is not None and loaded.version == store.version()


EXITS = r"""
import atexit, sys
import sensorium
from sensorium.search import vectors
from sensorium.store.lance import LanceSnapshot
columns = LanceSnapshot.columns
def slow(self, names):  # the background build stays inside LanceDB calls for a while
    for _ in range(200):
        columns(self, names + ["vector"])
    return columns(self, names)
LanceSnapshot.columns = slow
if sys.argv[2] == "ungated":
    atexit.unregister(vectors.reading_store.close)
c = sensorium.open(sys.argv[1])
c.search("a cat", k=3, keywords=False)
c.search("a dog", k=3, keywords=False)  # starts the build, then the process exits
print(c._building.is_alive())
"""


def test_a_process_exits_cleanly_while_the_index_is_built(
    tmp_path: Path, captions: tuple[list[str], np.ndarray]
) -> None:
    """LanceDB aborts a process that exits while a thread is inside one of its calls; the
    background build's reads are waited for at exit (``vectors.reading_store``)."""
    import subprocess
    import sys

    _, base = captions
    LanceStore(tmp_path / "db").upsert(_items(_mix(base, 3000, 4)))
    run = [sys.executable, "-c", EXITS, str(tmp_path / "db")]
    done = subprocess.run([*run, "gated"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr


def test_lists_filled_at_once_hold_what_faiss_add_puts_there(
    captions: tuple[list[str], np.ndarray],
) -> None:
    """``_ivf_over`` fills each list in one call; FAISS's own ``add`` row by row: the same
    lists, labels in the same order, the same answers."""
    import faiss

    _, base = captions
    x = _mix(base, 3000, 5)
    centroids = vectors._train(x, 64)
    lists = vectors._assign(centroids, x)
    ours = vectors._ivf_over(centroids, x, lists)
    theirs = faiss.IndexIVFFlat(faiss.IndexFlatIP(384), 384, 64, faiss.METRIC_INNER_PRODUCT)
    theirs.quantizer.add(centroids)
    theirs.is_trained = True
    theirs.add(x)
    for i in range(64):
        assert ours.invlists.list_size(i) == theirs.invlists.list_size(i)
        n = ours.invlists.list_size(i)
        got = faiss.rev_swig_ptr(ours.invlists.get_ids(i), n).copy()
        want = faiss.rev_swig_ptr(theirs.invlists.get_ids(i), n).copy()
        np.testing.assert_array_equal(got, want)
    ours.nprobe = theirs.nprobe = 8
    q = base[:50]
    (d1, i1), (d2, i2) = ours.search(q, 10), theirs.search(q, 10)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(d1, d2, rtol=1e-6)
