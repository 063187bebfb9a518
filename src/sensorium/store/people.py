"""People: the faces of a collection, clustered into persons as files come in, and the names
given to them. Two LanceDB tables beside ``items``:

- ``faces``: one row per face found in an image (its box, its 128-d identity vector from
  ``encoders/face_ids.py``, a small JPEG crop, the person it belongs to), keyed by
  ``face_id`` (the item's id and the face's place in it);
- ``names``: person -> name, one row per named person.

A new face joins the person of its nearest stored face when that face is within
``SAME_PERSON`` (dlib's descriptor distance), else it starts a person of its own (single
linkage, as dlib's own clustering example; merge and split correct it). A batch's faces are
written in one commit, *before* the batch's items (``store/ingest.commit``): a kill between
the two leaves faces whose item is not stored yet, and the next run encodes that file again
and rewrites the same face ids (a merge on ``face_id``, the file's old faces dropped in the
same commit), so nothing is lost or doubled; a face written again keeps its person.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from sensorium.encoders.face_ids import FACE_ID_DIM, SAME_PERSON, FaceId
from sensorium.errors import NotFoundError, UsageError

__all__ = ["FACES", "NAMES", "People", "Person", "assign"]

FACES = pa.schema(
    [
        pa.field("face_id", pa.string(), nullable=False),  # "<item id>:<index in the image>"
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("box", pa.list_(pa.float32(), 4)),  # x, y, w, h in the original's pixels
        pa.field("score", pa.float32()),  # BlazeFace's confidence
        pa.field("vector", pa.list_(pa.float32(), FACE_ID_DIM)),
        pa.field("person", pa.int64()),
        pa.field("crop", pa.binary()),  # JPEG thumbnail (encoders/face_ids.CROP_SIDE)
        pa.field("added", pa.float64()),  # Unix seconds
    ]
)
NAMES = pa.schema([pa.field("person", pa.int64(), nullable=False), pa.field("name", pa.string())])
_LISTED = ["face_id", "item_id", "path", "box", "score", "person", "added"]


@dataclass(frozen=True)
class Person:
    """One person of a collection: the faces clustered together, and the name given."""

    id: int
    name: str | None
    faces: int  # how many faces
    files: int  # in how many files
    face: str  # the face_id of the clearest face (highest detection score): its crop is shown

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "faces": self.faces, "files": self.files,
                "face": self.face}  # fmt: skip


def assign(vectors: np.ndarray, known: np.ndarray, persons: np.ndarray, next_id: int,
           threshold: float = SAME_PERSON) -> list[int]:  # fmt: skip
    """The person of each new face, in order: that of the nearest face known so far (the
    stored ones, ``known`` (K, 128) of ``persons`` (K,), then the new ones before it) when it
    is within ``threshold``, else a new person numbered from ``next_id``."""
    new = np.asarray(vectors, np.float64).reshape(-1, FACE_ID_DIM)  # (F, 128)
    old = np.asarray(known, np.float64).reshape(-1, FACE_ID_DIM)  # (K, 128)
    # The stored faces at once, (F, K) by |a|^2 + |b|^2 - 2ab in float64 (exact enough: the
    # threshold's margins are 0.1), so a batch costs one pass over the table, not one a face.
    near_d, near_p = np.full(len(new), np.inf), np.zeros(len(new), np.int64)
    if len(old) and len(new):
        d2 = (new**2).sum(1)[:, None] + (old**2).sum(1)[None] - 2 * new @ old.T
        best = np.argmin(d2, axis=1)
        near_d = np.sqrt(np.maximum(d2[np.arange(len(new)), best], 0.0))
        near_p = np.asarray(persons, np.int64)[best]
    out: list[int] = []
    for i, v in enumerate(new):
        person, dist = int(near_p[i]), float(near_d[i])
        if i:  # the batch's earlier faces, assigned already
            within = np.linalg.norm(new[:i] - v, axis=1)
            j = int(np.argmin(within))
            if within[j] < dist:
                person, dist = out[j], float(within[j])
        if dist > threshold:
            person, next_id = next_id, next_id + 1
        out.append(person)
    return out


def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


class People:
    """The ``faces`` and ``names`` tables of a LanceDB database (``db``: a connection)."""

    def __init__(self, db: Any) -> None:
        self.faces = db.create_table("faces", schema=FACES, exist_ok=True)
        self.names = db.create_table("names", schema=NAMES, exist_ok=True)

    # -- writes ----------------------------------------------------------------------------

    def add(self, found: dict[str, tuple[str, Sequence[FaceId]]]) -> None:
        """Store the faces of a batch of files, ``item id -> (path, faces)`` (an empty list:
        the file has no face now), in one commit that also drops those files' old faces."""
        if not found:
            return
        self.faces.checkout_latest()
        ids = [f"{item}:{i}" for item, (_, faces) in found.items() for i in range(len(faces))]
        if not ids:
            self.faces.delete(f"item_id IN ({_quoted(found)})")
            return
        vectors = np.stack([f.vector for _, faces in found.values() for f in faces])
        persons = self._persons_for(ids, vectors)
        rows = []
        for face_id, person, (item, path, face) in zip(ids, persons, _flat(found)):
            rows.append({"face_id": face_id, "item_id": item, "path": path,
                         "box": list(face.box), "score": face.score,
                         "vector": face.vector.astype(np.float32).tolist(), "person": person,
                         "crop": face.crop, "added": time.time()})  # fmt: skip
        table = pa.Table.from_pylist(rows, schema=FACES)
        merge = self.faces.merge_insert("face_id").when_matched_update_all()
        merge = merge.when_not_matched_insert_all()
        merge = merge.when_not_matched_by_source_delete(f"item_id IN ({_quoted(found)})")
        merge.execute(table)

    def _persons_for(self, ids: list[str], vectors: np.ndarray) -> list[int]:
        """Persons of faces about to be written: a face stored before keeps its own."""
        stored = self.faces.to_lance().to_table(columns=["face_id", "vector", "person"])
        keep = dict(zip(stored["face_id"].to_pylist(), stored["person"].to_pylist()))
        known = _vectors(stored["vector"])
        new = [i for i, f in enumerate(ids) if f not in keep]
        fresh = assign(vectors[new], known, stored["person"].to_numpy(), self._next_id(stored))
        given = dict(zip(new, fresh))
        return [int(keep[f]) if f in keep else given[i] for i, f in enumerate(ids)]

    def _next_id(self, stored: pa.Table | None = None) -> int:
        if stored is None:
            stored = self.faces.to_lance().to_table(columns=["person"])
        named = self.names.to_lance().to_table(columns=["person"])["person"].to_pylist()
        return max([*stored["person"].to_pylist(), *named, 0]) + 1

    def forget(self, paths: Sequence[str]) -> None:
        """Drop the faces of files that are gone from the collection."""
        if paths:
            self.faces.delete(f"path IN ({_quoted(paths)})")

    def name(self, person: int, name: str) -> None:
        """Give ``person`` a name (another person with that name keeps it too: two can share
        one, and ``person:`` then finds both)."""
        self._check(person)
        name = " ".join(name.split())
        if not name:
            raise UsageError("give a name")
        table = pa.Table.from_pylist([{"person": person, "name": name}], schema=NAMES)
        self.names.merge_insert("person").when_matched_update_all().when_not_matched_insert_all(
        ).execute(table)  # fmt: skip

    def merge(self, into: int, others: Sequence[int]) -> int:
        """The faces of ``others`` become ``into``'s (its name stays; theirs are dropped).
        Returns how many faces moved."""
        for p in [into, *others]:
            self._check(p)
        others = [p for p in others if p != into]
        if not others:
            return 0
        where = f"person IN ({', '.join(str(int(p)) for p in others)})"
        moved = self.faces.count_rows(where)
        self.faces.update(where=where, values={"person": into})
        self.names.delete(where)
        return moved

    def split(self, face_ids: Sequence[str]) -> int:
        """Move these faces (of one or more persons) to a new person; returns its id."""
        if not face_ids:
            raise UsageError("give the faces to split off (face ids, as `people faces` lists)")
        where = f"face_id IN ({_quoted(face_ids)})"
        found = self.faces.count_rows(where)
        if found != len(set(face_ids)):
            raise NotFoundError(f"{len(set(face_ids)) - found} of the faces given are unknown")
        new = self._next_id()
        self.faces.update(where=where, values={"person": new})
        return new

    # -- reads -----------------------------------------------------------------------------

    def _check(self, person: int) -> None:
        if self.faces.count_rows(f"person = {int(person)}") == 0:
            raise NotFoundError(f"no person {person} in the collection")

    def _names(self) -> dict[int, str]:
        t = self.names.to_lance().to_table()
        return dict(zip(t["person"].to_pylist(), t["name"].to_pylist()))

    def persons(self) -> list[Person]:
        """Every person, most faces first (named ones before unnamed at equal counts)."""
        t = self.faces.to_lance().to_table(columns=["face_id", "path", "score", "person"])
        names = self._names()
        groups: dict[int, list[tuple[float, str, str]]] = {}
        for fid, path, score, person in zip(*(t[c].to_pylist() for c in t.column_names)):
            groups.setdefault(person, []).append((score, fid, path))
        out = [Person(p, names.get(p), len(g), len({x[2] for x in g}), max(g)[1])
               for p, g in groups.items()]  # fmt: skip
        return sorted(out, key=lambda p: (-p.faces, p.name is None, p.id))

    def faces_of(self, person: int) -> list[dict[str, Any]]:
        """A person's faces (no vectors, no crops), clearest first."""
        rows = self.faces.to_lance().to_table(columns=_LISTED, filter=f"person = {int(person)}")
        return sorted(_rounded(rows.to_pylist()), key=lambda r: -r["score"])

    def in_item(self, item_id: str) -> list[dict[str, Any]]:
        """The faces of one file with their person and name, left to right."""
        where = f"item_id IN ({_quoted([item_id])})"
        rows = self.faces.to_lance().to_table(columns=_LISTED, filter=where)
        names = self._names()
        out = [r | {"name": names.get(r["person"])} for r in _rounded(rows.to_pylist())]
        return sorted(out, key=lambda r: r["box"][0])

    def crop(self, face_id: str) -> bytes | None:
        """A face's JPEG crop, or None for an unknown face."""
        t = self.faces.to_lance().to_table(columns=["crop"],
                                           filter=f"face_id IN ({_quoted([face_id])})")  # fmt: skip
        return t["crop"][0].as_py() if t.num_rows else None

    def named(self, name: str) -> list[int]:
        """The persons called ``name`` (any case, spaces folded), else those with it as
        whole words of their name ("obama" for "Barack Obama"), else the one whose id it is."""
        want = " ".join(name.split()).casefold()
        names = {p: n.casefold() for p, n in self._names().items()}
        found = [p for p, n in names.items() if n == want]
        if not found and want:
            found = [p for p, n in names.items() if f" {want} " in f" {n} "]
        if not found and want.isdigit():
            found = [int(want)] if self.faces.count_rows(f"person = {int(want)}") else []
        return found

    def paths_of(self, persons: Sequence[int]) -> frozenset[str]:
        """The files in which any of ``persons`` is seen."""
        if not persons:
            return frozenset()
        where = f"person IN ({', '.join(str(int(p)) for p in persons)})"
        paths = self.faces.to_lance().to_table(columns=["path"], filter=where)["path"]
        return frozenset(paths.to_pylist())

    def count(self) -> int:
        return int(self.faces.count_rows())


def _flat(found: dict[str, tuple[str, Sequence[FaceId]]]) -> list[tuple[str, str, FaceId]]:
    return [(item, path, f) for item, (path, faces) in found.items() for f in faces]


def _vectors(column: pa.ChunkedArray) -> np.ndarray:
    """A fixed-size list column -> (N, 128) float32."""
    if len(column) == 0:
        return np.zeros((0, FACE_ID_DIM), np.float32)
    flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, np.float32).reshape(-1, FACE_ID_DIM)


def _rounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        r["box"] = [round(float(v), 1) for v in r["box"]]
        r["score"] = round(float(r["score"]), 4)
    return rows
