"""The LanceDB store: an embedded, versioned table format made for multimodal AI data.

Two tables in one folder: ``items`` (searchable rows) and ``failures``. Each write is a single
LanceDB commit (a new table version), so a process killed mid-ingest leaves either the whole
batch or none of it: never a half-written row. Rows are keyed by ``id`` (a hash of the path)
and written with ``merge_insert``, so writing a batch twice cannot double it.

Search is exact (a flat scan) below ``ANN_THRESHOLD`` rows; from there an IVF-HNSW-SQ index is
built and kept up to date. From benchmarks/search.py: exact search takes 14 ms at 10k rows and
80 ms at 100k; the index 7 ms and 10 ms, recall@10 0.99 and 0.98, built in 2 s and 19 s
(IVF-PQ recalled as well but took 126 s to build at 100k).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lancedb.index import HnswSq

from sensorium.errors import SensoriumError
from sensorium.store.records import Failure, FileState, Item

__all__ = ["ANN_THRESHOLD", "SCHEMA_VERSION", "LanceStore"]

SCHEMA_VERSION = 2  # v2 added video moments: segment, start, end, heard, part vectors
DIM = 384
ANN_THRESHOLD = 10_000  # the index already halves query time here (benchmarks/search.py)
ANN_NPROBES = 16  # IVF partitions visited per query
ANN_EF = 64  # HNSW candidate list size
_META = "sensorium.json"

V2_FIELDS = [
    pa.field("segment", pa.int32()),
    pa.field("start", pa.float32()),
    pa.field("end", pa.float32()),
    pa.field("heard", pa.string()),  # JSON [[label, score], ...]
    pa.field("part_names", pa.string()),  # JSON [name, ...]
    pa.field("part_vectors", pa.list_(pa.float32())),  # the parts' (384,) vectors, concatenated
]
ITEMS = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("sha256", pa.string()),
        pa.field("size", pa.int64()),
        pa.field("mtime", pa.float64()),
        pa.field("kind", pa.string()),
        pa.field("duration", pa.float32()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("labels", pa.string()),  # JSON [[label, score], ...]
        pa.field("transcript", pa.string()),
        pa.field("segments", pa.string()),  # JSON [{"start", "end", "text"}, ...]
        pa.field("text", pa.string()),
        pa.field("vector", pa.list_(pa.float32(), DIM)),
        pa.field("features", pa.list_(pa.float32())),
        pa.field("models", pa.string()),  # JSON {role: card}
        pa.field("ingested_at", pa.float64()),
        *V2_FIELDS,
    ]
)
FAILURES = pa.schema(
    [
        pa.field("path", pa.string(), nullable=False),
        pa.field("size", pa.int64()),
        pa.field("mtime", pa.float64()),
        pa.field("error", pa.string()),
        pa.field("at", pa.float64()),
    ]
)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(_sql_str(v) for v in values)})"


def _to_row(item: Item) -> dict[str, Any]:
    names = sorted(item.part_vectors)
    return {
        "id": item.id, "path": item.path, "sha256": item.sha256, "size": item.size,
        "mtime": item.mtime, "kind": item.kind, "duration": item.duration,
        "width": item.width, "height": item.height,
        "labels": json.dumps(item.labels), "transcript": item.transcript,
        "segments": json.dumps(item.segments), "text": item.text,
        "vector": np.asarray(item.vector, np.float32),
        "features": None if item.features is None else np.asarray(item.features, np.float32),
        "models": json.dumps(item.models), "ingested_at": item.ingested_at,
        "segment": item.segment, "start": item.start, "end": item.end,
        "heard": json.dumps(item.heard), "part_names": json.dumps(names),
        "part_vectors": np.concatenate([item.part_vectors[n] for n in names]).astype(np.float32)
        if names else None,
    }  # fmt: skip


def _from_row(row: dict[str, Any]) -> Item:
    return Item(
        id=row["id"], path=row["path"], sha256=row["sha256"], size=row["size"],
        mtime=row["mtime"], kind=row["kind"], duration=row["duration"] or 0.0,
        width=row["width"] or 0, height=row["height"] or 0,
        labels=[tuple(x) for x in json.loads(row["labels"] or "[]")],
        transcript=row["transcript"] or "", segments=json.loads(row["segments"] or "[]"),
        text=row["text"] or "", vector=np.asarray(row["vector"], np.float32),
        features=None if row["features"] is None else np.asarray(row["features"], np.float32),
        models=json.loads(row["models"] or "{}"), ingested_at=row["ingested_at"] or 0.0,
        segment=row.get("segment") or 0, start=row.get("start") or 0.0,
        end=row.get("end") or 0.0, heard=[tuple(x) for x in json.loads(row.get("heard") or "[]")],
        part_vectors=_parts(row.get("part_names"), row.get("part_vectors")),
    )  # fmt: skip


def _parts(names: str | None, flat: Any) -> dict[str, np.ndarray]:
    if not names or flat is None:
        return {}
    vectors = np.asarray(flat, np.float32).reshape(-1, DIM)  # (P, 384)
    return dict(zip(json.loads(names), vectors))


class LanceStore:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        version = self._check_schema_version()
        self.db = lancedb.connect(str(self.folder))
        if version < SCHEMA_VERSION and "items" in self.db.table_names():
            self.items = self.db.open_table("items")
            self._migrate(version)
        self.items = self.db.create_table("items", schema=ITEMS, exist_ok=True)
        self.fails = self.db.create_table("failures", schema=FAILURES, exist_ok=True)
        if version < SCHEMA_VERSION:
            (self.folder / _META).write_text(json.dumps({"schema_version": SCHEMA_VERSION}))

    def _check_schema_version(self) -> int:
        """The folder's schema version; a new folder is written as the current one."""
        meta = self.folder / _META
        if not meta.is_file():
            meta.write_text(json.dumps({"schema_version": SCHEMA_VERSION}))
            return SCHEMA_VERSION
        version = json.loads(meta.read_text()).get("schema_version")
        if version not in (1, SCHEMA_VERSION):
            raise SensoriumError(
                f"{self.folder}: collection schema v{version}, this version reads "
                f"v1 and v{SCHEMA_VERSION}; ingest into a new --db folder"
            )
        return int(version)

    def _migrate(self, version: int) -> None:
        """v1 -> v2: the moment columns are added, empty (one commit); rows stay as they are.
        A run killed before the version is written adds only what is still missing."""
        if version == 1:
            present = set(self.items.schema.names)
            missing = [f for f in V2_FIELDS if f.name not in present]
            if missing:
                self.items.add_columns(missing)

    # -- reads ---------------------------------------------------------------------------

    def states(self) -> dict[str, FileState]:
        out: dict[str, FileState] = {}
        fails = self.fails.to_arrow().select(["path", "size", "mtime"]).to_pylist()
        for r in fails:
            out[r["path"]] = FileState(r["path"], r["size"], r["mtime"], "", True)
        columns = ["path", "size", "mtime", "sha256", "kind", "models"]
        for batch in self.items.to_lance().to_batches(columns=columns):
            for r in batch.to_pylist():
                out[r["path"]] = FileState(r["path"], r["size"], r["mtime"], r["sha256"], False,
                                           r["kind"], json.loads(r["models"] or "{}"))  # fmt: skip
        return out

    def search(
        self, vector: np.ndarray, k: int, where: str | None = None
    ) -> list[tuple[Item, float]]:
        query: Any = self.items.search(np.asarray(vector, np.float32), vector_column_name="vector")
        query = query.metric("cosine").limit(k)
        if self._has_index():
            query = query.nprobes(ANN_NPROBES).ef(ANN_EF)
        if where:
            query = query.where(where, prefilter=True)
        return [(_from_row(r), 1.0 - float(r["_distance"])) for r in query.to_list()]

    def get(self, key: str) -> Item | None:
        found = self._rows(f"id = {_sql_str(key)} OR path = {_sql_str(key)}")
        return min(found, key=lambda i: i.segment) if found else None

    def moments(self, path: str) -> list[Item]:
        return sorted(self._rows(f"path = {_sql_str(path)}"), key=lambda i: i.segment)

    def _rows(self, where: str) -> list[Item]:
        table = self.items.to_lance().to_table(filter=where)
        return [_from_row(r) for r in table.to_pylist()]

    def count(self) -> int:
        return int(self.items.count_rows())

    def files(self) -> int:
        paths = self.items.to_lance().to_table(columns=["path"]).column("path")
        return len(pc.unique(paths))

    def failures(self) -> list[Failure]:
        return [Failure(**r) for r in self.fails.to_arrow().to_pylist()]

    def kinds(self) -> dict[str, int]:
        table = self.items.to_lance().to_table(columns=["kind", "path"])
        counts: dict[str, int] = {}
        for k, _ in set(zip(table.column("kind").to_pylist(), table.column("path").to_pylist())):
            counts[k] = counts.get(k, 0) + 1  # files, not rows: a video has a row per moment
        return counts

    def info(self) -> dict[str, Any]:
        size = sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())
        return {
            "schema_version": SCHEMA_VERSION,
            "bytes": size,
            "ann_index": self._has_index(),
            "folder": str(self.folder),
        }

    def _has_index(self) -> bool:
        return any("vector" in ix.columns for ix in self.items.list_indices())

    # -- writes, each a single commit ----------------------------------------------------

    def upsert(self, items: list[Item]) -> None:
        if not items:
            return
        table = pa.Table.from_pylist([_to_row(i) for i in items], schema=ITEMS)
        paths = sorted({i.path for i in items})
        # One commit inserts and replaces the rows, and drops rows of the same files that
        # the batch no longer has (a re-encoded video with fewer moments).
        (
            self.items.merge_insert("id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .when_not_matched_by_source_delete(_in("path", paths))
            .execute(table)
        )
        self._forget_failures(paths)

    def touch(self, mtimes: dict[str, float]) -> None:
        if not mtimes:
            return
        items = self._rows(_in("path", list(mtimes)))
        for item in items:
            item.mtime = mtimes[item.path]
        self.upsert(items)

    def record_failures(self, failures: list[Failure]) -> None:
        if not failures:
            return
        table = pa.Table.from_pylist([f.__dict__ for f in failures], schema=FAILURES)
        self.fails.merge_insert(
            "path"
        ).when_matched_update_all().when_not_matched_insert_all().execute(table)
        self.items.delete(_in("path", [f.path for f in failures]))  # the file is bad now

    def delete(self, paths: list[str]) -> None:
        for start in range(0, len(paths), 500):
            chunk = paths[start : start + 500]
            self.items.delete(_in("path", chunk))
            self._forget_failures(chunk)

    def _forget_failures(self, paths: list[str]) -> None:
        if paths and self.fails.count_rows() > 0:
            self.fails.delete(_in("path", paths))

    def maintain(self) -> None:
        """Build or refresh the ANN index once the collection is large enough for it to pay."""
        n = self.count()
        if n < ANN_THRESHOLD:
            return
        if not self._has_index():
            self.build_index()
        else:
            self.items.optimize()  # folds new rows into the index

    def build_index(self) -> None:
        partitions = int(np.clip(self.count() // 1500, 4, 1024))  # ~1,500 rows a partition
        self.items.create_index(
            "vector", config=HnswSq(distance_type="cosine", num_partitions=partitions)
        )
