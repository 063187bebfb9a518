"""The LanceDB store: the ANN path against the exact path, and atomic, idempotent writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensorium.encoders import TextEncoder
from sensorium.errors import SensoriumError
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.store import Failure, Item, LanceStore


@pytest.fixture(scope="module")
def caption_vectors() -> np.ndarray:
    return TextEncoder().encode([s.caption for s in tuxpaint_stamps()])  # (N, 384), real


def _items(vectors: np.ndarray, offset: int = 0) -> list[Item]:
    return [Item(id=str(offset + i), path=f"/x/{offset + i}.txt", sha256="", size=0, mtime=0.0,
                 kind="text", vector=v) for i, v in enumerate(vectors)]  # fmt: skip


def test_ann_index_agrees_with_exact_search(tmp_path: Path, caption_vectors: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(caption_vectors), (2, 6000))
    mix = caption_vectors[i] + caption_vectors[j] + rng.normal(0, 0.01, (6000, 384))
    mix = (mix / np.linalg.norm(mix, axis=1, keepdims=True)).astype(np.float32)
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(mix))
    queries = caption_vectors[:40]
    exact = [[it.id for it, _ in store.search(q, 10)] for q in queries]
    store.build_index()
    assert store.info()["ann_index"]
    ann = [[it.id for it, _ in store.search(q, 10)] for q in queries]
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(ann, exact)])
    assert recall >= 0.9, recall


def test_upsert_is_idempotent_and_failures_replace_items(
    tmp_path: Path, caption_vectors: np.ndarray
) -> None:
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(caption_vectors[:20]))
    store.upsert(
        _items(caption_vectors[10:30], offset=10)
    )  # overlapping ids: replaced, not doubled
    assert store.count() == 30
    store.record_failures([Failure("/x/3.txt", 1, 2.0, "now corrupt", 0.0)])
    assert store.count() == 29 and store.get("/x/3.txt") is None
    assert store.states()["/x/3.txt"].failed
    store.upsert(_items(caption_vectors[3:4], offset=3))  # fixed: the failure is forgotten
    assert store.count() == 30 and not store.failures()
    store.delete(["/x/0.txt", "/x/1.txt"])
    assert store.count() == 28


def test_schema_version_is_checked(tmp_path: Path) -> None:
    LanceStore(tmp_path / "db")
    (tmp_path / "db" / "sensorium.json").write_text('{"schema_version": 99}')
    with pytest.raises(SensoriumError, match="schema v99"):
        LanceStore(tmp_path / "db")


def test_v1_collection_is_migrated_in_place(tmp_path: Path, caption_vectors: np.ndarray) -> None:
    """A collection written before video moments (schema v1) opens, keeps its rows, and
    gains the new columns."""
    import json

    import lancedb
    import pyarrow as pa

    from sensorium.store.lance import (
        ITEMS,
        SCHEMA_VERSION,
        V2_FIELDS,
        V3_FIELDS,
        V4_FIELDS,
        V5_FIELDS,
        V6_FIELDS,
        _to_row,
    )

    later = {g.name for g in V2_FIELDS + V3_FIELDS + V4_FIELDS + V5_FIELDS + V6_FIELDS}
    v1 = pa.schema([f for f in ITEMS if f.name not in later])
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "sensorium.json").write_text(json.dumps({"schema_version": 1}))
    rows = [{k: v for k, v in _to_row(i).items() if k in v1.names}
            for i in _items(caption_vectors[:5])]  # fmt: skip
    lancedb.connect(str(folder)).create_table("items", pa.Table.from_pylist(rows, schema=v1))
    store = LanceStore(folder)
    assert store.info()["schema_version"] == SCHEMA_VERSION and store.count() == 5
    assert store.keyword("2 txt", 5) and store.get("/x/2.txt").camera == ""  # type: ignore[union-attr]
    item = store.get("/x/2.txt")
    assert item is not None and item.segment == 0 and item.part_vectors == {}
    assert item.keywords == [] and item.caption == "" and item.latitude is None
    np.testing.assert_allclose(store.search(caption_vectors[2], 1)[0][0].vector, caption_vectors[2])
    store.upsert(_items(caption_vectors[5:6], offset=5))  # new rows write with the v2 schema
    assert store.count() == 6


def test_moments_of_a_file_are_replaced_as_a_whole(
    tmp_path: Path, caption_vectors: np.ndarray
) -> None:
    """A video re-encoded into fewer moments leaves no stale moment behind (one commit)."""
    store = LanceStore(tmp_path / "db")

    def moments(n: int) -> list[Item]:
        return [Item(id=f"v#{i}", path="/v.mp4", sha256="", size=0, mtime=0.0, kind="video",
                     vector=caption_vectors[i], segment=i, start=2.0 * i, end=2.0 * i + 2,
                     part_vectors={"seen": caption_vectors[i]}) for i in range(n)]  # fmt: skip

    store.upsert(moments(4) + _items(caption_vectors[10:12], offset=10))
    assert store.count() == 6 and store.files() == 3 and store.kinds() == {"video": 1, "text": 2}
    store.upsert(moments(2))
    got = store.moments("/v.mp4")
    assert [(m.segment, m.start, m.end) for m in got] == [(0, 0.0, 2.0), (1, 2.0, 4.0)]
    np.testing.assert_allclose(got[1].part_vectors["seen"], caption_vectors[1])
    assert store.count() == 4  # the other files are untouched


def test_a_commit_does_not_scan_the_table(
    tmp_path: Path, caption_vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-batch work stays flat as the collection grows: a commit merges on the indexed
    ``id``; only a file whose rows shrink asks the merge to drop rows it did not match,
    which makes the merge read the whole table."""
    from lancedb.merge import LanceMergeInsertBuilder

    scans: list[str | None] = []
    drop = LanceMergeInsertBuilder.when_not_matched_by_source_delete

    def counted(self: LanceMergeInsertBuilder, condition: str | None = None) -> Any:
        scans.append(condition)
        return drop(self, condition)

    monkeypatch.setattr(LanceMergeInsertBuilder, "when_not_matched_by_source_delete", counted)
    store = LanceStore(tmp_path / "db")
    store.upsert(_items(caption_vectors[:20]))
    store.maintain()
    assert {ix.name for ix in store.items.list_indices()} >= {"id_idx", "path_idx"}
    lookups: list[list[str]] = []
    ids = store._ids
    monkeypatch.setattr(store, "_ids", lambda paths: lookups.append(paths) or ids(paths))
    new = _items(caption_vectors[20:40], offset=20)
    store.upsert(new, {i.path for i in new})  # planned as new: their rows are not looked for
    store.upsert(_items(caption_vectors[10:30], offset=10))  # the same files again
    assert scans == [] and store.count() == 40 and [len(p) for p in lookups] == [20]
    video = [Item(id=f"v#{i}", path="/v.mp4", sha256="", size=0, mtime=0.0, kind="video",
                  vector=caption_vectors[i], segment=i) for i in range(3)]  # fmt: skip
    store.upsert(video)
    store.upsert(video[:1])  # re-encoded into one moment: two rows to drop
    assert len(scans) == 1 and [m.segment for m in store.moments("/v.mp4")] == [0]


def test_segments_merge_as_in_the_logarithmic_method() -> None:
    from sensorium.store.maintenance import to_merge

    cap = 20_000
    assert to_merge([10_000, 5_000], cap) == 0  # the newest is smaller than the one before
    assert to_merge([10_000, 5_000, 5_000], cap) == 3  # 5k + 5k reach 10k: all three, 20k
    assert to_merge([20_000, 10_000, 5_000, 5_000], cap) == 3  # not the 20k: over the cap
    assert to_merge([20_000, 20_000, 30], cap) == 0 and to_merge([7]) == to_merge([]) == 0


def test_maintenance_keeps_fragments_and_segments_few_and_small(
    tmp_path: Path, caption_vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ``MAINTAIN_ROWS`` rows the commits' fragments are compacted and their rows added
    to each index as a segment, merged up to a cap; the ANN index is built once, then takes
    a cap's worth at a time, never built whole again; nothing is lost."""
    from sensorium.store import lance, maintenance

    monkeypatch.setattr(lance, "MAINTAIN_ROWS", 100)
    monkeypatch.setattr(lance, "ANN_THRESHOLD", 200)
    monkeypatch.setattr(lance, "SEGMENT_ROWS", {})  # every index: maintenance.SEGMENT_ROWS
    monkeypatch.setattr(maintenance, "SEGMENT_ROWS", 240)
    builds: list[int] = []
    build = LanceStore.build_index
    monkeypatch.setattr(LanceStore, "build_index", lambda s: builds.append(s.count()) or build(s))
    store = LanceStore(tmp_path / "db")
    rng = np.random.default_rng(0)
    vectors = caption_vectors[rng.integers(0, len(caption_vectors), 900)]
    vectors = vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for start in range(0, 900, 30):  # 30 commits of 30 rows: maintained at 120, 240, ...
        store.upsert(_items(vectors[start : start + 30], offset=start))
        assert store.fragments() <= 8
    assert builds == [240]
    split = maintenance.segments(store._latest())
    assert split.pop("vector_idx") == [240, 240, 240]  # 120 rows still outside it
    indices = ("id_idx", "path_idx", "words_idx", "verbatim_idx")
    assert split == {n: [240, 240, 240, 120] for n in indices}
    store.maintain()
    assert store.count() == 900 and store.fragments() <= 8
    for i in (0, 450, 899):  # through the ANN index's segments and the rows outside it
        assert store.search(vectors[i], 1)[0][0].id == str(i)
    assert [i.id for i, _ in store.keyword("899 txt", 1)] == ["899"]


def test_states_under_a_folder(tmp_path: Path, caption_vectors: np.ndarray) -> None:
    """An ingest reads the states of its folder only; LIKE's wildcards in it are literal."""
    store = LanceStore(tmp_path / "db")
    paths = ["/a/b_c/x.txt", "/a/bxc/y.txt", "/a/b%c/z.txt", "/a/it's/q.txt", "/b/w.txt"]
    store.upsert([Item(id=str(i), path=p, sha256="", size=0, mtime=0.0, kind="text",
                       vector=caption_vectors[i]) for i, p in enumerate(paths)])  # fmt: skip
    store.record_failures([Failure("/a/b_c/bad.txt", 1, 2.0, "corrupt", 0.0)])
    assert sorted(store.states("/a/b_c")) == ["/a/b_c/bad.txt", "/a/b_c/x.txt"]
    assert list(store.states("/a/b%c")) == ["/a/b%c/z.txt"]
    assert list(store.states("/a/it's")) == ["/a/it's/q.txt"]
    assert sorted(store.states()) == sorted([*paths, "/a/b_c/bad.txt"])
