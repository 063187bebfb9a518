"""The ``Store`` interface and the ``Filter`` each store compiles its own way. One
implementation per module: ``lance.py`` (the default).

LanceDB gets an SQL ``WHERE`` clause (``Filter.sql``); the in-memory serving index
(``search/vectors.py``) gets a boolean mask over its columns (``Filter.mask``). Both are
tested to select the same rows (tests/search/test_filters.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, fields
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sensorium.errors import UsageError
from sensorium.media.places import EARTH_KM, haversine_km
from sensorium.media.types import MediaKind
from sensorium.store.records import Failure, FileState, Item

__all__ = [
    "COLUMNS",
    "KINDS",
    "Filter",
    "Near",
    "Snapshot",
    "Store",
    "fuzzy_edits",
    "parse_span",
]

KINDS = tuple(k.value for k in MediaKind)  # the store's ``kind`` column: "image", ...
# The stored columns a filter reads: what the serving index keeps in memory beside vectors.
COLUMNS = ("kind", "path", "duration", "size", "ingested_at", "taken", "camera", "keywords",
           "latitude", "longitude")  # fmt: skip
# A keyword may be misspelt (or misheard) by up to this many letters, by its length (shorter
# words have too many neighbours: "mark" is one edit from "park"): the rule of every store's
# keyword search, and of the search that explains what it matched.
FUZZY_EDITS = ((8, 2), (5, 1))  # (at least this many letters, edits)


def fuzzy_edits(word: str) -> int:
    """How many letters ``word`` may be off by and still match (0: exactly)."""
    if not word.isalpha():  # numbers and contractions: "2024" is not a misspelt "2023"
        return 0
    return next((edits for letters, edits in FUZZY_EDITS if len(word) >= letters), 0)


def _like(glob: str) -> str:
    """A shell glob -> an SQL LIKE pattern on absolute paths (relative globs match anywhere)."""
    escaped = glob.replace("'", "''").replace("%", r"\%").replace("_", r"\_")
    pattern = escaped.replace("**", "*").replace("*", "%").replace("?", "_")
    return pattern if pattern.startswith(("/", "%")) else "%" + pattern


def _glob_regex(glob: str) -> str:
    """The same match as ``_like``, as an anchored RE2 pattern: ``*`` anything, ``?`` one
    character, everything else literal (as in LIKE)."""
    body = "".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in glob)
    return "^" + ("" if glob.startswith("/") else ".*") + body + "$"


@dataclass(frozen=True)
class Near:
    """Within ``km`` of a point (great-circle distance, haversine): ``near:`` of a query.
    ``search.parse_near`` makes one from "Paris" or "48.85,2.35,10km"."""

    latitude: float  # degrees
    longitude: float
    km: float = 25.0  # the radius
    place: str = ""  # the place named, when the point was given by a name: "Paris, France"
    note: str = ""  # how that place was chosen: "the most populous of 16 named Paris"

    def __post_init__(self) -> None:
        if not (-90.0 <= self.latitude <= 90.0 and -180.0 <= self.longitude <= 180.0):
            raise UsageError(f"near: ({self.latitude}, {self.longitude}) is not a point on Earth")
        if not self.km >= 0.0:  # NaN too
            raise UsageError(f"near: a radius of {self.km} km (give 0 or more)")

    def sql(self) -> str:
        """Rows with a position within the radius, as SQL (DataFusion's math functions)."""
        lat, lon = float(self.latitude), float(self.longitude)
        half = "power(sin(radians({} - {!r}) / 2), 2)"  # sin² of half a difference
        hav = (f"{half.format('latitude', lat)} + cos(radians({lat!r})) * "
               f"cos(radians(latitude)) * {half.format('longitude', lon)}")  # fmt: skip
        km = f"2 * {EARTH_KM!r} * asin(sqrt(least({hav}, 1.0)))"
        return f"latitude IS NOT NULL AND longitude IS NOT NULL AND {km} <= {float(self.km)!r}"

    def mask(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """(N,) degrees (NaN unknown) -> (N,) bool: within the radius (unknown is not)."""
        with np.errstate(invalid="ignore"):
            return np.asarray(haversine_km(lat, lon, self.latitude, self.longitude) <= self.km)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"latitude": self.latitude, "longitude": self.longitude,
                                  "km": self.km}  # fmt: skip
        return out | ({"place": self.place, "note": self.note} if self.place else {})


@dataclass(frozen=True)
class Filter:
    kind: str | None = None  # image | audio | video | text
    path: str | None = None  # a glob on the absolute path; a relative glob matches anywhere
    min_duration: float | None = None  # seconds, audio and video
    max_duration: float | None = None
    min_size: int | None = None  # bytes
    max_size: int | None = None
    since: float | None = None  # ingested at or after (Unix seconds)
    taken_after: float | None = None  # EXIF date taken (Unix seconds); unknown dates fail
    taken_before: float | None = None
    camera: str | None = None  # a case-insensitive part of the EXIF "Make Model"
    keyword: str | None = None  # one of the item's keywords (XMP, IPTC, a folder), any case
    near: Near | None = None  # taken within a radius of a point (GPS); unknown places fail
    # person: a name given to a person (store/people.py); the collection resolves it to the
    # files that person is seen in (``paths``) before a search: unresolved, it filters nothing
    person: str | None = None
    paths: frozenset[str] | None = None  # only these files (empty: none)

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise UsageError(f"kind must be one of {', '.join(KINDS)}")
        for low, high in (("min_duration", "max_duration"), ("min_size", "max_size"),
                          ("taken_after", "taken_before")):  # fmt: skip
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise UsageError(f"{low} ({lo}) is above {high} ({hi})")

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def _ranges(self) -> list[tuple[str, str, Any]]:
        """(column, operator, value) for every bound that is set."""
        bounds = [("duration", ">=", self.min_duration), ("duration", "<=", self.max_duration),
                  ("size", ">=", self.min_size), ("size", "<=", self.max_size),
                  ("ingested_at", ">=", self.since), ("taken", ">=", self.taken_after),
                  ("taken", "<=", self.taken_before)]  # fmt: skip
        out = [b for b in bounds if b[2] is not None]
        if self.taken_after is not None or self.taken_before is not None:
            out.append(("taken", ">", 0.0))  # an unknown date is in no range
        return out

    def sql(self) -> str | None:
        """A LanceDB ``WHERE`` clause, or None when nothing is filtered."""
        clauses = []
        if self.kind:
            clauses.append(f"kind = '{self.kind}'")
        if self.path:
            clauses.append(f"path LIKE '{_like(self.path)}' ESCAPE '\\'")
        clauses += [f"{col} {op} {int(v) if col == 'size' else float(v)!r}"
                    for col, op, v in self._ranges()]  # fmt: skip
        if self.camera:
            camera = self.camera.lower().replace("'", "''").replace("%", r"\%").replace("_", r"\_")
            clauses.append(f"lower(camera) LIKE '%{camera}%' ESCAPE '\\'")
        if self.keyword:
            quoted = _keyword_json(self.keyword).replace("\\", "\\\\").replace("'", "''")
            quoted = quoted.replace("%", r"\%").replace("_", r"\_")
            clauses.append(f"lower(keywords) LIKE '%{quoted}%' ESCAPE '\\'")
        if self.near:
            clauses.append(self.near.sql())
        if self.paths is not None:
            quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(self.paths))
            clauses.append(f"path IN ({quoted})" if self.paths else "false")
        return " AND ".join(clauses) or None

    def mask(self, columns: dict[str, pa.Array]) -> np.ndarray:
        """(N,) bool over rows whose ``COLUMNS`` are given as Arrow arrays."""
        n = len(columns["kind"])
        keep = np.ones(n, bool)
        if self.kind:
            keep &= pc.equal(columns["kind"], self.kind).to_numpy(zero_copy_only=False)
        if self.path:
            hit = pc.match_substring_regex(columns["path"], _glob_regex(self.path))
            keep &= hit.to_numpy(zero_copy_only=False)
        ops = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater}
        for col, op, v in self._ranges():
            values = pc.fill_null(columns[col], 0).to_numpy(zero_copy_only=False)
            keep &= ops[op](values, v)
        if self.camera:
            cam = pc.utf8_lower(pc.fill_null(columns["camera"], ""))
            keep &= pc.match_substring(cam, self.camera.lower()).to_numpy(zero_copy_only=False)
        if self.keyword:
            tags = pc.utf8_lower(pc.fill_null(columns["keywords"], "[]"))
            hit = pc.match_substring(tags, _keyword_json(self.keyword))
            keep &= hit.to_numpy(zero_copy_only=False)
        if self.near:
            lat, lon = (_floats(columns[c]) for c in ("latitude", "longitude"))
            keep &= self.near.mask(lat, lon)
        if self.paths is not None:
            hit = pc.is_in(columns["path"], value_set=pa.array(sorted(self.paths), pa.string()))
            keep &= hit.to_numpy(zero_copy_only=False)
        return keep


def _floats(column: pa.Array) -> np.ndarray:
    """A float column -> (N,) float64, NaN for a null."""
    return pc.fill_null(pc.cast(column, pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _keyword_json(keyword: str) -> str:
    """A keyword as it stands, lower-cased, in the stored JSON list (``"beach"``, quotes
    included: a whole keyword, not a part of one)."""
    return json.dumps(" ".join(keyword.split()).lower(), ensure_ascii=False)


def parse_span(value: str) -> float:
    """ "90", "1:30" or "1h" -> seconds (for duration filters)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", value)
    if m:
        return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    parts = value.split(":")
    try:
        return sum(float(p) * 60**i for i, p in enumerate(reversed(parts)))
    except ValueError:
        raise UsageError(f"bad duration {value!r}: write 90, 1:30, 2m or 1h") from None


class Snapshot(Protocol):
    """One version of a store's items, pinned: rows keep their positions while it is held."""

    version: int

    def columns(self, names: list[str]) -> pa.Table:
        """Whole columns, rows in position order."""
        ...

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """(R,) positions -> (R, 384)."""
        ...

    def items(self, rows: np.ndarray) -> list[Item]:
        """Rows by position, in the order given (without ``features``)."""
        ...

    def meta(self, rows: np.ndarray | None = None) -> pa.Table:
        """What ``items`` reads but the vector: of these positions (ascending), or all."""
        ...

    def to_items(self, meta: pa.Table, vectors: np.ndarray) -> list[Item]:
        """Rows of ``meta`` with their (R, 384) vectors -> Items."""
        ...


class Store(Protocol):
    """A collection's storage. Every write is atomic: a batch is all visible or not at all."""

    def states(self, under: str | None = None) -> dict[str, FileState]:
        """Every known path (items and failures) -> its recorded state; with ``under``, only
        the paths that start with it (an ingest reads the states of its folder only)."""
        ...

    def upsert(self, items: list[Item], new: Collection[str] = ()) -> None:
        """Insert or replace items by id, in one commit, dropping rows of the same files that
        the items do not replace (a video re-encoded into fewer moments); clears failures of
        the same paths. ``new``: paths planned as new, whose stored rows are not looked for."""
        ...

    def touch(self, mtimes: dict[str, float]) -> None:
        """Record new modification times for files whose content did not change."""
        ...

    def record_failures(self, failures: list[Failure]) -> None: ...

    def delete(self, paths: list[str]) -> None:
        """Forget items and failures of these paths."""
        ...

    def search(
        self, vector: np.ndarray, k: int, where: Filter | str | None = None
    ) -> list[tuple[Item, float]]:
        """The ``k`` items nearest to ``vector`` (384,), with cosine similarity, best first."""
        ...

    def keyword(
        self, text: str, k: int, where: Filter | str | None = None
    ) -> list[tuple[Item, float]]:
        """The ``k`` items whose words (file name, transcript, text) best match ``text``."""
        ...

    def snapshot(self) -> Snapshot:
        """The items as of now."""
        ...

    def version(self) -> int:
        """Changes with every commit."""
        ...

    def get(self, key: str) -> Item | None:
        """An item by id or by path."""
        ...

    def moments(self, path: str) -> list[Item]:
        """Every item of one file in time order: a video's moments, or the file's one item."""
        ...

    def count(self) -> int:
        """Rows: a file is one row, a video one row per moment."""
        ...

    def files(self) -> int:
        """Distinct files."""
        ...

    def failures(self) -> list[Failure]: ...

    def kinds(self) -> dict[str, int]:
        """Number of files of each media type."""
        ...

    def maintain(self) -> None:
        """Housekeeping after an ingest (e.g. build or refresh an ANN index)."""
        ...

    def info(self) -> dict[str, Any]:
        """Schema version, size on disk, index state."""
        ...
