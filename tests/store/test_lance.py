"""The LanceDB store: the ANN path against the exact path, and atomic, idempotent writes."""

from __future__ import annotations

from pathlib import Path

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
