"""The store's keyword indices: stop words kept, a word's own form above its other forms, a
misspelt word found by spelling, and a v3 collection brought to them in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.store import Item, LanceStore
from sensorium.store.lance import FTS_INDEX, VERBATIM_INDEX, fuzzy_edits


@pytest.fixture(scope="module")
def captions() -> list[Item]:
    """Every Tux Paint caption (real short texts) as a typed note. The vectors play no part
    in keyword search: one for all."""
    vector = np.full(384, 384**-0.5, np.float32)
    return [Item(id=str(i), path=f"/notes/{i}.txt", sha256="", size=0, mtime=0.0, kind="text",
                  text=s.caption, vector=vector)
            for i, s in enumerate(tuxpaint_stamps())]  # fmt: skip


def _texts(found: list[tuple[Item, float]]) -> list[str]:
    return [item.text for item, _ in found]


def _indices(store: LanceStore) -> dict[str, dict[str, object]]:
    return {ix.name: dict(ix.index_details or {}) for ix in store.items.list_indices()}


def test_keywords_keep_stop_words_forms_and_spelling(tmp_path: Path, captions: list[Item]) -> None:
    store = LanceStore(tmp_path / "db")
    store.upsert(captions)
    store.maintain()
    # A query of nothing but a stop word still finds the one text that says it.
    assert _texts(store.keyword("those", 5)) == ["We remember those who have died."]
    # A word as written scores above its other forms, found by stem (BM25 alone ranks the
    # shorter text first: "A UK post box..." is longer than "Rugby goal posts.").
    for word, first, other in (("posts", "Rugby goal posts.", "A UK post box."),
                               ("post", "A UK post box.", "Rugby goal posts."),
                               ("hands", "Remember to flush the toilet", "A hand.")):  # fmt: skip
        found = _texts(store.keyword(word, 5))
        assert found[0].startswith(first) and any(t.startswith(other) for t in found), word
    # Misspelt (one edit; eight letters or more may be off by two): found by spelling.
    assert [fuzzy_edits(w) for w in ("dreidl", "helicoptr", "mark", "2024", "can't")] == [
        1, 2, 0, 0, 0
    ]  # fmt: skip
    assert _texts(store.keyword("dreidl", 5))[0] == "A dreidel."
    assert _texts(store.keyword("helicoptr", 5))[0] == "Eddie the Helicopter."
    # Filters apply to the keyword lookup too.
    assert store.keyword("dreidl", 5, "path = '/notes/0.txt'") == []


def test_v3_collection_is_reindexed_in_place(
    tmp_path: Path, captions: list[Item], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A v3 collection (words indexed with stop words dropped, no verbatim copy) opens as
    v4, gains the copy in one commit, keeps answering through its old index, and has both
    indices built as v4 wants at the next ``maintain``, once."""
    import lancedb
    import pyarrow as pa
    from lancedb.index import FTS

    from sensorium.store.lance import (
        ITEMS,
        SCHEMA_VERSION,
        V4_FIELDS,
        V5_FIELDS,
        V6_FIELDS,
        _to_row,
    )

    later = {g.name for g in V4_FIELDS + V5_FIELDS + V6_FIELDS}
    v3 = pa.schema([f for f in ITEMS if f.name not in later])
    folder = tmp_path / "v3"
    folder.mkdir()
    (folder / "sensorium.json").write_text(json.dumps({"schema_version": 3}))
    rows = [{k: v for k, v in _to_row(i).items() if k in v3.names} for i in captions]
    table = lancedb.connect(str(folder)).create_table("items", schema=v3)
    table.add(pa.Table.from_pylist(rows, v3))
    table.create_index("words", config=FTS(), name=FTS_INDEX)  # v3's: stop words dropped
    store = LanceStore(folder)
    assert json.loads((folder / "sensorium.json").read_text())["schema_version"] == SCHEMA_VERSION
    column = store.items.to_arrow().select(["words", "verbatim"])
    assert column.column("verbatim").to_pylist() == column.column("words").to_pylist()
    assert _indices(store)[FTS_INDEX]["remove_stop_words"] is True
    assert store.keyword("dreidel", 5) and store.keyword("those", 5) == []  # the old index
    store.maintain()
    indices = _indices(store)
    assert indices[FTS_INDEX]["remove_stop_words"] is False and indices[FTS_INDEX]["stem"]
    assert indices[VERBATIM_INDEX]["stem"] is False
    assert _texts(store.keyword("those", 5)) == ["We remember those who have died."]
    built: list[str] = []
    create = store.items.create_index

    def counted(column: str, **options: Any) -> Any:
        built.append(column)
        return create(column, **options)

    monkeypatch.setattr(store.items, "create_index", counted)
    store.upsert(captions[:3])
    store.maintain()
    assert built == []  # built once, not at every maintain
