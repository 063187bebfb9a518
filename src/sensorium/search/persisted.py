"""The serving index's inverted lists, kept with the collection so a new process need not train
them again (search/vectors.py): one file beside the tables, ``items.ivf``.

It holds, for one version of the items table: the IVF centroids (L, 384), each row's list
(N,), the rows' vectors (N, 384) and their keys (``id``, ``mtime``, ``ingested_at``), rows in
the table's order. Why the vectors too: reading them back from LanceDB costs 3.3 s at a
million rows (5.4 s by ``take``), from this file 0.6 s (Xeon, 2 shared cores); the file is
about as large as the vector column (1.5 GB at a million rows).

Safety (``save``, ``load``):

- Written to a temporary file, synced, then renamed over the old one: a process killed
  mid-write leaves the old file (or none) and a ``.tmp`` file that a later ``save`` removes
  (once it is an hour old: a live writer's is younger);
  two processes saving at once leave one whole file, the last one's.
- Every 64 MB of a section has its CRC-32 and the header its own, checked on load; a file that is
  truncated, corrupt or of another format is ignored with a warning (``load`` returns None)
  and the index is built as if there were none, then saved again. Nothing is lost: the
  table stays the store of record, the file only spares work.
- A file is used whole only for the table version it was written for, with the same keys row
  by row; otherwise (another commit came after it, in this process or another) only its
  centroids and its rows' lists are used, for rows whose keys are unchanged, and every vector
  is read from the table (``VectorIndex._build``). A list is only where a row is looked for,
  so an out-of-date list can lower recall, never return a wrong row.
"""

from __future__ import annotations

import json
import os
import struct
import time
import uuid
import warnings
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

__all__ = ["FILE_NAME", "SavedLists", "load", "save"]

FILE_NAME = "items.ivf"
MAGIC = b"SENSORIUM-IVF-1\n"  # 16 bytes; a new layout gets a new magic (an old file is ignored)
ALIGN = 64  # sections start at multiples of this (aligned reads into numpy)
CHUNK = 64 << 20  # bytes read and checked at a time
STALE_TMP_S = 3600.0  # a temporary file this old is a killed writer's: removed by ``save``
_HEAD = struct.Struct("<QI")  # header length, header CRC-32


@dataclass(frozen=True)
class SavedLists:
    """The serving index's lists for one table version (rows in the table's order)."""

    version: int  # the table version the rows are of
    keys: pa.Table  # id, mtime, ingested_at: (N,) each
    vectors: np.ndarray  # (N, 384) float32
    lists: np.ndarray  # (N,) int64: each row's inverted list
    centroids: np.ndarray  # (L, 384) float32: the lists' centroids


class CorruptFile(ValueError):
    """The file is not a whole ``items.ivf`` of this layout."""


def save(path: Path, saved: SavedLists) -> None:
    """Write ``saved`` to ``path`` atomically (temporary file, fsync, rename)."""
    _remove_stale_tmp(path)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, saved.keys.schema) as writer:
        writer.write_table(saved.keys)
    arrays: dict[str, np.ndarray] = {
        "centroids": np.ascontiguousarray(saved.centroids, np.float32),
        "lists": np.ascontiguousarray(saved.lists, np.int32),
        "vectors": np.ascontiguousarray(saved.vectors, np.float32),
        "keys": np.frombuffer(sink.getvalue(), np.uint8),
    }
    sections: list[dict[str, Any]] = []
    offset = 0
    for name, a in arrays.items():
        raw = a.data.cast("B")
        crcs = [zlib.crc32(raw[i : i + CHUNK]) for i in range(0, a.nbytes, CHUNK)]
        sections.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape),
                         "offset": offset, "bytes": a.nbytes, "crcs": crcs})  # fmt: skip
        offset += -(-a.nbytes // ALIGN) * ALIGN
    header = json.dumps({"version": saved.version, "sections": sections}).encode()
    start = -(-(len(MAGIC) + _HEAD.size + len(header)) // ALIGN) * ALIGN  # first section
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC + _HEAD.pack(len(header), zlib.crc32(header)) + header)
            for section, a in zip(sections, arrays.values()):
                f.seek(start + section["offset"])
                f.write(a.data.cast("B"))
            f.truncate(start + offset)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _sync_folder(path.parent)


def load(path: Path) -> SavedLists | None:
    """The lists saved at ``path``; None when there are none, or (with a warning) when the
    file cannot be read whole: the caller builds them again."""
    try:
        with open(path, "rb") as f:
            return _read(f, os.fstat(f.fileno()).st_size)
    except FileNotFoundError:
        return None
    except KeyError as e:  # a field of the header missing: another layout
        warnings.warn(f"{path}: serving index file ignored and built again (no field {e})",
                      stacklevel=2)  # fmt: skip
        return None
    except (OSError, CorruptFile, ValueError, TypeError, pa.ArrowException) as e:
        warnings.warn(f"{path}: serving index file ignored and built again ({e})", stacklevel=2)
        return None


def _read(f: BinaryIO, size: int) -> SavedLists:
    read = f.read
    if read(len(MAGIC)) != MAGIC:
        raise CorruptFile("not a serving index file of this version")
    head = read(_HEAD.size)
    if len(head) != _HEAD.size:
        raise CorruptFile("truncated header")
    length, crc = _HEAD.unpack(head)
    header = read(min(length, size))
    if len(header) != length or zlib.crc32(header) != crc:
        raise CorruptFile("corrupt header")
    meta = json.loads(header)
    start = -(-(len(MAGIC) + _HEAD.size + length) // ALIGN) * ALIGN
    arrays: dict[str, np.ndarray] = {}
    for s in meta["sections"]:
        if start + s["offset"] + s["bytes"] > size:
            raise CorruptFile(f"truncated: {size} bytes, section {s['name']} ends past them")
        a = np.empty(s["shape"], np.dtype(s["dtype"]))
        if a.nbytes != s["bytes"]:
            raise CorruptFile(f"section {s['name']}: shape and size disagree")
        f.seek(start + s["offset"])
        if _read_checked(f, a.data.cast("B")) != s["crcs"]:
            raise CorruptFile(f"section {s['name']}: checksum mismatch")
        arrays[s["name"]] = a
    keys = pa.ipc.open_stream(pa.py_buffer(arrays["keys"])).read_all()
    vectors, lists, centroids = arrays["vectors"], arrays["lists"], arrays["centroids"]
    n = keys.num_rows
    if vectors.shape != (n, centroids.shape[1]) or lists.shape != (n,):
        raise CorruptFile("sections of different row counts")
    if n and (lists.min() < 0 or lists.max() >= len(centroids)):
        raise CorruptFile("a row's list is out of range")
    return SavedLists(int(meta["version"]), keys, vectors, lists.astype(np.int64), centroids)


def _read_checked(f: BinaryIO, into: memoryview) -> list[int]:
    """Fill ``into`` from ``f``; the CRC-32 of each ``CHUNK`` (a short read is corruption).
    A chunk is checked in another thread while the next one is read (both release the GIL:
    at a million rows 0.8 s, against 1.4 s one after the other)."""
    crcs: list[Future[int]] = []
    with ThreadPoolExecutor(1) as pool:
        for start in range(0, len(into), CHUNK):
            chunk = into[start : start + CHUNK]
            done = 0
            while done < len(chunk):
                got = f.readinto(chunk[done:])  # type: ignore[attr-defined]
                if not got:
                    raise CorruptFile("truncated section")
                done += got
            crcs.append(pool.submit(zlib.crc32, chunk))
        return [c.result() for c in crcs]


def _remove_stale_tmp(path: Path) -> None:
    """Temporary files of writers killed mid-write (a live writer's is younger)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if time.time() - tmp.stat().st_mtime > STALE_TMP_S:
                tmp.unlink()
        except OSError:
            pass


def _sync_folder(folder: Path) -> None:
    """The rename itself made durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
