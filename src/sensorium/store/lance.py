"""The LanceDB store: an embedded, versioned table format made for multimodal AI data.

Two tables in one folder: ``items`` (searchable rows) and ``failures``. Each write is a single
LanceDB commit (a new table version), so a process killed mid-ingest leaves either the whole
batch or none of it: never a half-written row. Rows are keyed by ``id`` (a hash of the path)
and written with ``merge_insert``, so writing a batch twice cannot double it.

Search here is exact (a flat scan) below ``ANN_THRESHOLD`` rows; from there an IVF-HNSW-SQ
index is built, and new rows are added to it in segments (``store/maintenance.py``, which
keeps every index and the table's fragments in shape as it grows). From benchmarks/search.py:
exact search takes 14 ms at 10k rows and 80 ms at 100k; the index 7 ms and 10 ms, recall@10
0.99 and 0.98, built in 2 s and 19 s (IVF-PQ recalled as well but took 126 s to build at
100k). That is the store of record's own search; a long-lived process serves queries from
``search/vectors.py`` instead (an in-memory index kept in step with this table's version),
which is 10-100x faster.

Keywords (file names, transcripts, text read or typed) are in the ``words`` column, under
LanceDB's native full-text index (BM25, stemmed), and again in ``verbatim``, indexed as
written (not stemmed), so that a word's own form scores above its other forms ("numbers"
above "number") and a misspelt word can still be found within an edit or two of a real one.
Neither index drops stop words: a query of one ("between", "those") must still find where it
was said; which words of a longer query to look up is the query's business (search/query.py).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Collection
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

# First: lancedb's import then skips its REST namespace client (1.3 s; store/_deferred.py).
from sensorium.store import _deferred  # noqa: F401

# isort: split
import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lancedb.index import FTS, BTree, HnswSq
from lancedb.query import BooleanQuery, FullTextQuery, MatchQuery, Occur

from sensorium import unchanged
from sensorium.errors import SensoriumError
from sensorium.media.names import path_text
from sensorium.store.base import Filter, fuzzy_edits
from sensorium.store.maintenance import tidy
from sensorium.store.people import People
from sensorium.store.records import Failure, FileState, Item

__all__ = [
    "ANN_THRESHOLD",
    "SCHEMA_VERSION",
    "LanceSnapshot",
    "LanceStore",
    "fuzzy_edits",
    "keyword_query",
]

# v2 added video moments; v3 EXIF (taken, camera) and keywords (words); v4 their verbatim copy;
# v5 what a file says of itself (keywords, caption); v6 where a photo was taken (GPS, place)
SCHEMA_VERSION = 6
DIM = 384
ANN_THRESHOLD = 10_000  # the index already halves query time here (benchmarks/search.py)
ANN_NPROBES = 16  # IVF partitions visited per query
ANN_EF = 64  # HNSW candidate list size
_META = "sensorium.json"
SETTINGS = ("people",)  # the collection's settings kept in _META beside the schema version

V2_FIELDS = [
    pa.field("segment", pa.int32()),
    pa.field("start", pa.float32()),
    pa.field("end", pa.float32()),
    pa.field("heard", pa.string()),  # JSON [[label, score], ...]
    pa.field("part_names", pa.string()),  # JSON [name, ...]
    pa.field("part_vectors", pa.list_(pa.float32())),  # the parts' (384,) vectors, concatenated
]
V3_FIELDS = [
    pa.field("taken", pa.float64()),  # EXIF date taken, Unix seconds (0 unknown)
    pa.field("camera", pa.string()),  # EXIF "Make Model"
    pa.field("words", pa.string()),  # file name, transcript and text: the keyword index's column
]
# How v1/v2 rows get their keywords (SQL over the columns they have); EXIF stays empty.
V3_FILL = {
    "words": "concat_ws(' ', regexp_replace(regexp_replace(path, '^.*/', ''), '[_.-]', ' ', 'g'),"
    " transcript, text)",
}
V4_FIELDS = [pa.field("verbatim", pa.string())]  # ``words`` again, indexed as written
V4_FILL = {"verbatim": "words"}
V5_FIELDS = [
    pa.field("keywords", pa.string()),  # JSON ["keyword", ...]: XMP, IPTC, folder names
    pa.field("caption", pa.string()),  # title and description written in the file
]
V6_FIELDS = [
    pa.field("latitude", pa.float64()),  # GPS degrees (EXIF, XMP); null unknown
    pa.field("longitude", pa.float64()),
    pa.field("place", pa.string()),  # JSON {"city", "region", "country", ...}: media/places.py
]
READ_CONSISTENCY = timedelta(seconds=1)  # how soon this process sees other processes' commits
# Asking LanceDB for the table version costs 1-7 ms (a hop through its event loop thread), so
# a query asks at most this often; this store's own commits are known at once.
VERSION_CHECK_S = 0.25
FTS_INDEX = "words_idx"
VERBATIM_INDEX = "verbatim_idx"
# The two keyword indices: by stem (recall: "invoices" finds "invoice"), and as written (a
# word's own form scores twice; fuzzy matching needs real words, not stems: "represenatives"
# is one edit from "representatives" but eight from its stem, "repres").
KEYWORD_INDICES = {
    FTS_INDEX: ("words", FTS(remove_stop_words=False)),
    VERBATIM_INDEX: ("verbatim", FTS(stem=False, remove_stop_words=False)),
}
# A match by spelling (within ``fuzzy_edits`` of a word) counts ``FUZZY_BOOST`` times its
# BM25 score, so a word as written wins.
FUZZY_BOOST = 0.3
ANN_INDEX = "vector_idx"
KEY_COLUMNS = ("id", "path")  # scalar (B-tree) indices, named "<column>_idx"
# Rows of an index segment at most (store/maintenance.py), so that one maintenance step
# holds ~30 MB: over 100k rows, building the ANN index held 355 MB, merging the keywords'
# 118 MB, a key's 67 MB. The ANN index takes new rows this many at a time, never merged.
# Fewer segments make queries faster: a merge on id took 12.8 ms over one segment of the
# key's index against 16.7 over eleven (100k rows).
SEGMENT_ROWS = {ANN_INDEX: 10_000, FTS_INDEX: 25_000, VERBATIM_INDEX: 25_000, "id_idx": 50_000,
                "path_idx": 50_000}  # fmt: skip
CLEANUP_S = 3600.0  # versions older than a week are looked for at most this often
# Rows written between two ``maintain`` calls at most, and commits between two compactions
# (``_compact``). Every commit leaves a fragment and rows outside the indices, which each
# later merge on id and lookup by path scans: a 64-row merge took 40 ms over 10 such
# fragments and 230 ms over 80 (2-core EPYC, shared), 13-110 ms with them compacted.
MAINTAIN_ROWS = 5_000
COMPACT_COMMITS = 16
# LanceDB's cache of table metadata (manifests, file footers) kept every version's: 1.9 KB
# a row written in 64-row commits, 190 MB at 100k rows, most of it for versions long gone.
METADATA_CACHE = 32 << 20
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
        *V3_FIELDS,
        *V4_FIELDS,
        *V5_FIELDS,
        *V6_FIELDS,
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


def _prefix(text: str) -> str:
    """A string as the literal start of an SQL LIKE pattern (escape character ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("'", "''")


def _key(key: str) -> str:
    """A key as stored: a path as the file system gave it (a name that is not UTF-8 holds
    surrogates) as its text (``media.names``); text, as it is."""
    try:
        key.encode()
        return key
    except UnicodeEncodeError:
        return path_text(key)


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(_sql_str(v) for v in values)})"


def keywords(item: Item) -> str:
    """What keyword search reads: the file name (split at ``_ . -``), what was said and what
    was written or typed, the caption and keywords written in the file and its folders' names
    (split as the name is, and at a hierarchical keyword's ``|``)."""
    name = re.sub(r"[_.\-]+", " ", Path(item.path).name)
    tags = re.sub(r"[_.\-|]+", " ", " ".join(item.keywords))
    return " ".join(t for t in (name, item.transcript, item.text, item.caption, tags) if t)


def _to_row(item: Item) -> dict[str, Any]:
    names = sorted(item.part_vectors)
    words = keywords(item)
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
        "taken": item.taken, "camera": item.camera, "words": words, "verbatim": words,
        "keywords": json.dumps(item.keywords, ensure_ascii=False), "caption": item.caption,
        "latitude": item.latitude, "longitude": item.longitude,
        "place": json.dumps(item.place, ensure_ascii=False) if item.place else None,
    }  # fmt: skip


def _from_row(row: dict[str, Any]) -> Item:
    return Item(
        id=row["id"], path=row["path"], sha256=row["sha256"], size=row["size"],
        mtime=row["mtime"], kind=row["kind"], duration=row["duration"] or 0.0,
        width=row["width"] or 0, height=row["height"] or 0,
        labels=[tuple(x) for x in json.loads(row["labels"] or "[]")],
        transcript=row["transcript"] or "", segments=json.loads(row["segments"] or "[]"),
        text=row["text"] or "", vector=np.asarray(row.get("vector", ()), np.float32),
        features=None if row.get("features") is None else np.asarray(row["features"], np.float32),
        models=json.loads(row["models"] or "{}"), ingested_at=row["ingested_at"] or 0.0,
        segment=row.get("segment") or 0, start=row.get("start") or 0.0,
        end=row.get("end") or 0.0, heard=[tuple(x) for x in json.loads(row.get("heard") or "[]")],
        part_vectors=_parts(row.get("part_names"), row.get("part_vectors")),
        taken=row.get("taken") or 0.0, camera=row.get("camera") or "",
        caption=row.get("caption") or "", keywords=json.loads(row.get("keywords") or "[]"),
        latitude=row.get("latitude"), longitude=row.get("longitude"),
        place=json.loads(row.get("place") or "{}"),
    )  # fmt: skip


def _floats(column: pa.ChunkedArray | pa.Array) -> list[np.ndarray | None]:
    """A list<float32> column -> one array per row (None for a null), without Python floats."""
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(col) == 0:
        return []
    values = col.values.to_numpy(zero_copy_only=False)
    if isinstance(col, pa.FixedSizeListArray):
        dim = col.type.list_size
        start = col.offset * dim
        rows = values[start : start + len(col) * dim].reshape(len(col), dim)
        return [None if not ok else r for r, ok in zip(rows, col.is_valid().to_pylist())]
    offsets = col.offsets.to_numpy()
    return [None if not ok else values[offsets[i] : offsets[i + 1]]
            for i, ok in enumerate(col.is_valid().to_pylist())]  # fmt: skip


def items_from_table(table: pa.Table) -> list[Item]:
    """Rows of an items table -> Items, with the vector columns read as whole arrays (a
    row-by-row ``to_pylist`` spends 10 ms on 50 rows making Python floats of the vectors)."""
    big = [c for c in ("vector", "features", "part_vectors") if c in table.column_names]
    arrays = {c: _floats(table.column(c)) for c in big}
    light = table.drop_columns(big).to_pylist()
    for i, row in enumerate(light):
        for c in big:
            row[c] = arrays[c][i]
    return [_from_row(r) for r in light]


def keyword_query(words: list[str], verbatim: bool = True) -> BooleanQuery:
    """The full-text query for these words: any of them by stem, and, with the ``verbatim``
    index, as written and (a word of five letters or more) by spelling, scores added."""
    text = " ".join(words)
    clauses = [(Occur.SHOULD, _match(text, "words"))]
    if verbatim:
        clauses.append((Occur.SHOULD, _match(text, "verbatim")))
        for word in dict.fromkeys(w.lower() for w in words):
            edits = fuzzy_edits(word)
            if edits:
                fuzzy = _match(word, "verbatim", fuzziness=edits, boost=FUZZY_BOOST)
                clauses.append((Occur.SHOULD, fuzzy))
    return BooleanQuery(clauses)


def _match(text: str, column: str, **options: Any) -> FullTextQuery:
    # through ``**options``: mypy reads the pydantic dataclass's defaults as required
    return MatchQuery(text, column, **options)


def _outdated(index: Any, config: FTS) -> bool:
    """Whether a keyword index was built otherwise than ``config`` says (before schema v4,
    the words' index dropped stop words)."""
    details = index.index_details or {}
    return any(key in details and details[key] != getattr(config, key)
               for key in ("stem", "remove_stop_words", "lower_case", "ascii_folding"))  # fmt: skip


def _parts(names: str | None, flat: Any) -> dict[str, np.ndarray]:
    if not names or flat is None:
        return {}
    vectors = np.asarray(flat, np.float32).reshape(-1, DIM)  # (P, 384)
    return dict(zip(json.loads(names), vectors))


class LanceStore:
    def __init__(self, folder: str | Path, storage_options: dict[str, str] | None = None) -> None:
        # A folder, or a URI that LanceDB opens itself ("s3://bucket/prefix": object storage,
        # reached with ``storage_options`` and the AWS variables). No collection on object
        # storage predates schema v2, so there the tables alone are the collection: what
        # its items table lacks is added as it is opened.
        self.uri = str(folder)
        self.remote = "://" in self.uri
        self.folder = Path(folder)
        if not self.remote:
            self.folder.mkdir(parents=True, exist_ok=True)
        version = SCHEMA_VERSION if self.remote else self._check_schema_version()
        session = lancedb.Session(metadata_cache_size_bytes=METADATA_CACHE)
        self.db = lancedb.connect(self.uri, read_consistency_interval=READ_CONSISTENCY,
                                  storage_options=storage_options, session=session)  # fmt: skip
        if (version < SCHEMA_VERSION or self.remote) and "items" in self.db.table_names():
            self.items = self.db.open_table("items")
            self._migrate(version)
        self.items = self.db.create_table("items", schema=ITEMS, exist_ok=True)
        self.fails = self.db.create_table("failures", schema=FAILURES, exist_ok=True)
        if version < SCHEMA_VERSION:
            self._write_meta()
        self._writes = 0  # commits made through this object
        self._unmaintained = 0  # rows written since the last ``maintain``
        self._uncompacted = 0  # commits since the last compaction
        self._cleaned = -CLEANUP_S  # when old versions were last removed (monotonic s)
        self._version = (-1, -1.0, 0)  # (version, when asked, writes then)

    def _write_meta(self, **settings: Any) -> None:
        """Write the schema version and the collection's settings (``people``), those not
        given kept, by rename: a kill mid-write leaves the old file or none."""
        tmp = self.folder / f"{_META}.tmp"
        meta = {**self._settings(), **settings, "schema_version": SCHEMA_VERSION}
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, self.folder / _META)

    def _settings(self) -> dict[str, Any]:
        """The settings kept in the folder's ``sensorium.json`` (none on object storage)."""
        try:
            meta = json.loads((self.folder / _META).read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return {k: v for k, v in meta.items() if k in SETTINGS} if isinstance(meta, dict) else {}

    @property
    def people_on(self) -> bool:
        """Whether ingest recognises faces (the collection's ``people`` setting, off by
        default: a face's identity vector is personal data; see the README)."""
        return not self.remote and bool(self._settings().get("people", False))

    def set_people(self, on: bool) -> None:
        """Turn face recognition on or off for this collection. Off keeps the faces stored
        (``people forget`` drops them). The next ingest's plan changes with it, so the
        no-op ingest manifest (``sensorium.unchanged``) is dropped."""
        if self.remote:
            raise SensoriumError("people are kept for local collections only")
        self._write_meta(people=on)
        (self.folder / unchanged.MANIFEST).unlink(missing_ok=True)

    @cached_property
    def people(self) -> People:
        """The faces and people of this collection (``store/people.py``)."""
        return People(self.db)

    def _check_schema_version(self) -> int:
        """The folder's schema version; a new folder is written as the current one."""
        meta = self.folder / _META
        if not meta.is_file():
            self._write_meta()
            return SCHEMA_VERSION
        try:
            version = json.loads(meta.read_text() or "{}").get("schema_version")
        except (ValueError, AttributeError) as e:
            raise SensoriumError(f"{meta}: unreadable ({e}); ingest into a new --db folder") from e
        if version is None and not any(self.folder.glob("*.lance")):
            self._write_meta()  # an empty file in a folder with no table yet: a new collection
            return SCHEMA_VERSION
        if version not in range(1, SCHEMA_VERSION + 1):
            raise SensoriumError(
                f"{self.folder}: collection schema v{version}, this version reads "
                f"v1 to v{SCHEMA_VERSION}; ingest into a new --db folder"
            )
        return int(version)

    def _migrate(self, version: int) -> None:
        """v1 -> v2: the moment columns are added, empty (one commit); v2 -> v3: the EXIF
        columns, empty, and the keywords, computed from the columns the rows have (one more
        commit); v3 -> v4: the keywords' verbatim copy (one more; its index and the words'
        new one, which keeps stop words, are built by the next ``maintain``); v4 -> v5: the
        file's own keywords and caption, empty (one more); v5 -> v6: GPS and place, empty
        (one more: a photo stored before gets them when it is ingested again). A run killed
        before the version is written adds only what is still missing."""
        present = set(self.items.schema.names)
        filled = {*V3_FILL, *V4_FILL}
        missing = [f for f in [*V2_FIELDS, *V3_FIELDS] if f.name not in {*present, *filled}]
        if missing:
            self.items.add_columns(missing)
        for fills in (V3_FILL, V4_FILL):  # in order: v4's is computed from v3's
            fill = {name: sql for name, sql in fills.items() if name not in present}
            if fill:
                self.items.add_columns(fill)
        for fields in (V5_FIELDS, V6_FIELDS):  # after v4's, in order, as in ``ITEMS``
            later = [f for f in fields if f.name not in present]
            if later:
                self.items.add_columns(later)

    # -- reads ---------------------------------------------------------------------------

    def states(self, under: str | None = None) -> dict[str, FileState]:
        where = None if under is None else f"path LIKE '{_prefix(under)}%' ESCAPE '\\'"
        out: dict[str, FileState] = {}
        fails = self.fails.to_lance().to_table(columns=["path", "size", "mtime"], filter=where)
        for r in fails.to_pylist():
            out[r["path"]] = FileState(r["path"], r["size"], r["mtime"], "", True)
        columns = ["path", "size", "mtime", "sha256", "kind", "models"]
        models: dict[str, dict[str, str]] = {}  # a few distinct JSON strings, parsed once
        for batch in self.items.to_lance().to_batches(columns=columns, filter=where):
            for r in batch.to_pylist():
                text = r["models"] or "{}"
                if text not in models:
                    models[text] = json.loads(text)
                out[r["path"]] = FileState(r["path"], r["size"], r["mtime"], r["sha256"], False,
                                           r["kind"], models[text])  # fmt: skip
        return out

    def search(
        self, vector: np.ndarray, k: int, where: Filter | str | None = None
    ) -> list[tuple[Item, float]]:
        query: Any = self.items.search(np.asarray(vector, np.float32), vector_column_name="vector")
        query = query.metric("cosine").limit(k)
        if self._has_index():
            query = query.nprobes(ANN_NPROBES).ef(ANN_EF)
        clause = where.sql() if isinstance(where, Filter) else where
        if clause:
            query = query.where(clause, prefilter=True)
        table = query.to_arrow()
        cosine = 1.0 - table.column("_distance").to_numpy()
        return list(zip(items_from_table(table), cosine.tolist()))

    def keyword(
        self, text: str, k: int, where: Filter | str | None = None
    ) -> list[tuple[Item, float]]:
        """Items whose file name, transcript or text holds words of ``text``, best BM25 score
        first: a word counts by its stem, again as written, and once more, at
        ``FUZZY_BOOST``, within ``fuzzy_edits`` of it (``keyword_query``). Rows written since
        the indices were last refreshed are searched too."""
        words = re.findall(r"[\w']+", text)
        if not words:
            return []
        clause = where.sql() if isinstance(where, Filter) else where
        indices = {ix.name for ix in self.items.list_indices()}
        if FTS_INDEX not in indices:
            return self._keyword_scan(" ".join(words), k, clause)
        fts = keyword_query(words, VERBATIM_INDEX in indices)
        query: Any = self.items.search(fts, query_type="fts").limit(k)
        if clause:
            query = query.where(clause, prefilter=True)
        table = query.to_arrow()
        return list(zip(items_from_table(table), table.column("_score").to_numpy().tolist()))

    def keyword_config(self) -> dict[str, dict[str, Any]] | None:
        """The keyword indices' settings by column (``{"words": ..., "verbatim": ...}``, as
        LanceDB reports them), for an index in memory that ranks as ``keyword`` does
        (search/keywords.py); None without the words' index (``keyword`` scans then)."""
        found = {ix.name: ix for ix in self.items.list_indices()}
        if FTS_INDEX not in found:
            return None
        out = {"words": dict(found[FTS_INDEX].index_details or {})}
        if VERBATIM_INDEX in found:
            out["verbatim"] = dict(found[VERBATIM_INDEX].index_details or {})
        return out

    def keyword_docs(self) -> int:
        """The documents the words' index counts in its BM25 statistics: a row deleted or
        replaced still counts until a compaction remaps the index."""
        stats = self.items.to_lance().stats.index_stats(FTS_INDEX)
        return sum(int(s.get("num_docs", 0)) for s in stats.get("segments", []))

    def _keyword_scan(self, words: str, k: int, clause: str | None) -> list[tuple[Item, float]]:
        """No index yet (a new collection before its first ``maintain``): a plain scan, scored
        by how many of the words a row holds."""
        terms = [w.lower().replace("'", "''") for w in words.split() if len(w) > 2][:8]
        if not terms:
            return []
        likes = [f"lower(words) LIKE '%{t}%'" for t in terms]
        where = "(" + " OR ".join(likes) + ")" + (f" AND {clause}" if clause else "")
        found = self._rows(where)
        scored = [(i, float(sum(t in keywords(i).lower() for t in terms))) for i in found]
        return sorted(scored, key=lambda p: -p[1])[:k]

    def snapshot(self) -> LanceSnapshot:
        """The table as of now, pinned: its rows keep their positions while it is held."""
        return LanceSnapshot(self.items.to_lance())

    def version(self) -> int:
        """The table version: every commit makes a new one (this object's are seen at once,
        other processes' within ``READ_CONSISTENCY`` + ``VERSION_CHECK_S``)."""
        version, asked, writes = self._version
        now = time.monotonic()
        if writes != self._writes or now - asked >= VERSION_CHECK_S:
            writes = self._writes
            self._version = version, asked, writes = int(self.items.version), now, writes
        return version

    def get(self, key: str) -> Item | None:
        key = _key(key)
        found = self._rows(f"id = {_sql_str(key)} OR path = {_sql_str(key)}")
        return min(found, key=lambda i: i.segment) if found else None

    def moments(self, path: str) -> list[Item]:
        return sorted(self._rows(f"path = {_sql_str(_key(path))}"), key=lambda i: i.segment)

    def _rows(self, where: str) -> list[Item]:
        table = self.items.to_lance().to_table(filter=where)
        return items_from_table(table)

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
        if self.remote:  # listing a bucket costs requests: the tables' data bytes instead
            stats: list[Any] = [t.to_lance().stats.data_stats() for t in (self.items, self.fails)]
            size = sum(f.bytes_on_disk for s in stats for f in s.fields)
        else:
            size = sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())
        return {
            "schema_version": SCHEMA_VERSION,
            "bytes": size,
            "ann_index": self._has_index(),
            "folder": self.uri,
        }

    def _has_index(self) -> bool:
        return any("vector" in ix.columns for ix in self.items.list_indices())

    # -- writes, each a single commit ----------------------------------------------------

    def upsert(self, items: list[Item], new: Collection[str] = ()) -> None:
        if not items:
            return
        table = pa.Table.from_pylist([_to_row(i) for i in items], schema=ITEMS)
        paths = sorted({i.path for i in items})
        # One commit inserts and replaces the rows by id, and drops rows of the same files
        # that the batch no longer has (a re-encoded video with fewer moments). Those are
        # looked up by path first (an index lookup; not for files planned as new), because
        # asking the merge itself to drop unmatched rows makes it scan the whole table:
        # 20 ms a batch at 5k rows, 70 ms at 50k, against 8 ms flat for the keyed merge.
        ids = {i.id for i in items}
        known = [p for p in paths if p not in new]
        stale = [i for i in self._ids(known) if i not in ids] if known else []
        merge = self.items.merge_insert("id").when_matched_update_all()
        merge = merge.when_not_matched_insert_all()
        if stale:
            merge = merge.when_not_matched_by_source_delete(_in("id", stale))
        # Failures first: a kill between the two commits then leaves a mended file unknown (the
        # next run encodes it again), never stored beside its old failure for good.
        self._forget_failures(paths)
        merge.execute(table)
        self._writes += 1
        self._unmaintained += len(items)
        self._uncompacted += 1
        if self._unmaintained >= MAINTAIN_ROWS:
            self.maintain()
        elif self._uncompacted >= COMPACT_COMMITS:
            self._compact()

    def _compact(self) -> None:
        """Between two ``maintain`` calls: the commits' small fragments into one, and their
        rows into the key indices (a merge on id scans the rows outside them: a 64-row merge
        took 15 ms with 1k rows outside, 25 with 2k, 35 with 4k, at 100k rows)."""
        self._uncompacted = 0
        keys = {f"{column}_idx" for column in KEY_COLUMNS}
        if keys <= {ix.name for ix in self.items.list_indices()}:
            tidy(self._latest, SEGMENT_ROWS, cleanup=False, only=keys)
        else:
            self._latest().optimize.compact_files()
        self.items.checkout_latest()
        self._writes += 1

    def _ids(self, paths: list[str]) -> list[str]:
        """The stored row ids of these paths."""
        table = self.items.search().where(_in("path", paths)).select(["id"]).to_arrow()
        return table.column("id").to_pylist()  # type: ignore[no-any-return]

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
        self._writes += 1

    def delete(self, paths: list[str]) -> None:
        for start in range(0, len(paths), 500):
            chunk = paths[start : start + 500]
            if "faces" in self.db.table_names():  # their faces first: a kill leaves no orphan
                self.people.forget(chunk)
            self.items.delete(_in("path", chunk))
            self._writes += 1
            self._forget_failures(chunk)

    def _forget_failures(self, paths: list[str]) -> None:
        if paths and self.fails.count_rows() > 0:
            self.fails.delete(_in("path", paths))

    def maintain(self) -> None:
        """Housekeeping, after an ingest and every ``MAINTAIN_ROWS`` rows written
        (``store/maintenance.py``): compact what the commits since the last run left, add
        their rows to the indices, and build the missing ones: the keys (``id``, ``path``:
        what a merge and a lookup by path read), the keywords, and the ANN index once the
        collection is large enough for it to pay."""
        self._unmaintained = self._uncompacted = 0
        n = self.count()
        if not n:
            return
        names = {ix.name for ix in self.items.list_indices()}
        for column in KEY_COLUMNS:
            if f"{column}_idx" not in names:
                self.items.create_index(column, config=BTree())
        self.index_keywords()
        if n >= ANN_THRESHOLD and not self._has_index():
            self.build_index()
        cleanup = time.monotonic() - self._cleaned >= CLEANUP_S
        tidy(self._latest, SEGMENT_ROWS, whole={ANN_INDEX}, cleanup=cleanup)
        self._cleaned = time.monotonic() if cleanup else self._cleaned
        self.items.checkout_latest()  # what was committed through the dataset, seen now
        self._writes += 1

    def index_keywords(self) -> None:
        """Build each keyword index that is missing or was built otherwise than
        ``KEYWORD_INDICES`` says (a collection from before schema v4). One commit each:
        until it lands, queries use the index as it was."""
        indices = {ix.name: ix for ix in self.items.list_indices()}
        for name, (column, config) in KEYWORD_INDICES.items():
            if name not in indices or _outdated(indices[name], config):
                self.items.create_index(column, config=config, name=name, replace=True)
                self._writes += 1

    def _latest(self) -> Any:
        """The table's latest version as a Lance dataset (for its maintenance calls)."""
        dataset = self.items.to_lance()
        latest = dataset.latest_version
        return dataset if dataset.version == latest else dataset.checkout_version(latest)

    def fragments(self) -> int:
        """Data files of the current version: one per commit until ``maintain`` compacts."""
        return len(self.items.to_lance().get_fragments())

    def build_index(self) -> None:
        partitions = int(np.clip(self.count() // 1500, 4, 1024))  # ~1,500 rows a partition
        self.items.create_index(
            "vector",
            config=HnswSq(distance_type="cosine", num_partitions=partitions),
            name=ANN_INDEX,
        )
        self._writes += 1


# The columns a search result needs (not ``features``, the raw encoder output: 5 KB a row).
HIT_COLUMNS = [f.name for f in ITEMS if f.name != "features"]
META_COLUMNS = [c for c in HIT_COLUMNS if c != "vector"]  # what a serving index keeps by row


class LanceSnapshot:
    """One version of the items table, for the serving index: whole columns, and rows by
    position (``take``: random access, no scan)."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.version = int(dataset.version)

    def columns(self, names: list[str]) -> pa.Table:
        return self.dataset.to_table(columns=names)  # type: ignore[no-any-return]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """(R,) positions -> (R, 384) float32."""
        if len(rows) == 0:
            return np.zeros((0, DIM), np.float32)
        if len(rows) == self.dataset.count_rows() and np.array_equal(rows, np.arange(len(rows))):
            table = self.dataset.to_table(columns=["vector"])  # every row: a scan (3.3 s at 1M
        else:  # rows, against 5.4 s by ``take``)
            table = self.dataset.take(rows, columns=["vector"])
        col = table.column("vector").combine_chunks()
        return col.values.to_numpy().reshape(-1, DIM)  # type: ignore[no-any-return]

    def meta(self, rows: np.ndarray | None = None) -> pa.Table:
        """The result columns but the vector, of these positions (ascending) or of all rows."""
        if rows is None:
            return self.dataset.to_table(columns=META_COLUMNS)  # type: ignore[no-any-return]
        if len(rows) == 0:
            return self.dataset.schema.empty_table().select(META_COLUMNS)  # type: ignore[no-any-return]
        return self.dataset.take(rows, columns=META_COLUMNS)  # type: ignore[no-any-return]

    @staticmethod
    def to_items(meta: pa.Table, vectors: np.ndarray) -> list[Item]:
        """Rows of ``meta`` with their (R, 384) vectors -> Items."""
        items = items_from_table(meta)
        for item, v in zip(items, vectors):
            item.vector = v
        return items

    def items(self, rows: np.ndarray) -> list[Item]:
        """Rows by position, in the order given."""
        if len(rows) == 0:
            return []
        order = np.argsort(rows)  # take wants them ascending
        found = items_from_table(self.dataset.take(np.asarray(rows)[order], columns=HIT_COLUMNS))
        out: list[Item] = [None] * len(rows)  # type: ignore[list-item]
        for i, item in zip(order, found):
            out[i] = item
        return out
