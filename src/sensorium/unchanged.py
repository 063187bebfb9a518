"""An ingest that has nothing to do, decided without loading the store or a model.

Re-ingesting an unchanged folder from the shell spent most of its time importing LanceDB,
pyarrow and the encoders to find that nothing had changed. After a command-line ingest, the
collection's folder keeps a manifest (``unchanged.json``) of one fact: "ingesting these inputs
with these options, while the tables are at these versions and each file is as stat says,
changes nothing". It is written only from a plan that found nothing to do (``store.ingest.
remember_unchanged``), read with the standard library alone, and trusted only while every part
of that fact still holds:

- the same inputs (made absolute), roots, ``sync`` and ``exclude``, the same ``$SENSORIUM_*``
  settings and the same Sensorium code (a stamp of its files' sizes and mtimes);
- both tables at the versions the plan read (the newest manifest in each table's
  ``_versions/`` folder, with that file's size and mtime: a table made again reuses numbers).
  Every commit, by any process (the service, a watcher, another ingest), makes a new version;
- the same files listed (``expand_paths``), ignore files included, each with the same inode,
  size and mtime in nanoseconds (a change within the same second, to the same size, is seen).

Anything else (no manifest, a stale one, an S3 collection) takes the full path, which writes a
new manifest when it finds nothing to do. A file whose mtime was within ``RACY_S`` of the plan
is never vouched for (as git's "racily clean" entries): a write in the same tick of the file
system's clock would leave its mtime as it was. The manifest is written whole by rename, so a
process killed at any point leaves the old one, which the versions or the files then disown.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sensorium import config
from sensorium.errors import UsageError

__all__ = [
    "MANIFEST",
    "UNCHANGED_FAILED",
    "IngestReport",
    "collection_folder",
    "expand_paths",
    "fact",
    "listing",
    "tables",
    "unchanged",
    "write",
]

MANIFEST = "unchanged.json"
FORMAT = 1
TABLES = ("items", "failures")
RACY_S = 3.0  # FAT keeps mtimes to 2 s; a write after the plan can look as old as this
UNCHANGED_FAILED = "unchanged since it failed"  # a failure the plan repeats without a write
IGNORE_FILE = ".sensoriumignore"  # store.ignore's, named here so as not to import the store


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    excluded: int = 0  # files left out by --exclude patterns and .sensoriumignore files
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, cause)
    # Stored, but a part failed (e.g. the text could not be read): (path, cause)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        failed = [{"path": p, "error": e} for p, e in self.failed]
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "excluded": self.excluded,
            "failed": failed,
            "warnings": [{"path": p, "warning": w} for p, w in self.warnings],
            "seconds": round(self.seconds, 2),
        }


def collection_folder(db: str | None) -> str:
    """The collection ``Collection(db)`` opens: ``db``, else ``$SENSORIUM_DB``, else
    ``./.sensorium`` (``collection.default_db``, read here without importing the store)."""
    return db or config.db()


def listing(inputs: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """``expand_paths``'s files, and the ignore files under the folders among the inputs."""
    out: list[Path] = []
    ignores: list[Path] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob("*"))
            ignores.extend(p for p in found if p.name == IGNORE_FILE)
            out.extend(p for p in found if not p.is_dir() and not p.name.startswith("."))
        elif not path.exists() and glob.has_magic(str(raw)):
            matches = sorted(Path(p) for p in glob.glob(str(raw), recursive=True))
            if not matches:
                raise UsageError(f"no file matches {raw}")
            out.extend(p for p in matches if not p.is_dir())
        else:
            out.append(path)  # a missing file becomes a per-file error when decoded
    return out, ignores


def expand_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders recursively (hidden files skipped); glob patterns expanded.

    Whatever is not a folder is kept, named pipes and devices too: decoding refuses each with
    its own line, which a silent skip would not give. Links to folders are not followed.
    """
    return listing(inputs)[0]


def _stamp(paths: Iterable[Path]) -> list[list[Any]] | None:
    """(path, inode, size, mtime_ns) of each regular file; None when one is not."""
    out = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        out.append([os.path.abspath(p), st.st_ino, st.st_size, st.st_mtime_ns])
    return out


def _code() -> str:
    """A stamp of Sensorium's own files: another version may store files otherwise."""
    digest = hashlib.sha1()
    root = Path(__file__).parent
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            st = os.stat(os.path.join(folder, name))
            digest.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def fact(inputs: Sequence[str | Path], sync: bool, exclude: Sequence[str]) -> dict[str, Any]:
    """What must be as it was for the manifest to hold, but the tables and the files."""
    roots = [p for p in map(Path, inputs) if p.exists()]
    settings = {k: v for k, v in os.environ.items()
                if k.startswith("SENSORIUM_") and k != "SENSORIUM_DB"}  # fmt: skip
    return {
        "format": FORMAT,
        "inputs": [os.path.abspath(p) for p in inputs],
        "roots": [[os.path.abspath(r), r.is_dir()] for r in roots],
        "sync": sync,
        "exclude": list(exclude),
        "settings": settings,
        "code": _code(),
    }


def tables(folder: Path) -> dict[str, list[int]] | None:
    """Each table's newest version, with its manifest file's size and mtime, read from the
    ``_versions`` folder as Lance lays it out (``{u64::MAX - version:020}.manifest``, or
    ``{version}.manifest`` in the older naming); None when a table cannot be read so."""
    out = {}
    for table in TABLES:
        versions = folder / f"{table}.lance" / "_versions"
        newest: tuple[int, str] | None = None
        try:
            names = os.listdir(versions)
        except OSError:
            return None
        for name in names:
            stem, _, ext = name.partition(".")
            if ext != "manifest" or not stem.isdigit():
                continue
            number = int(stem)
            version = (2**64 - 1 - number) if len(stem) == 20 else number
            if newest is None or version > newest[0]:
                newest = (version, name)
        if newest is None:
            return None
        try:
            st = os.stat(versions / newest[1])
        except OSError:
            return None  # cleaned up as it was read: take the full path
        out[table] = [newest[0], st.st_size, st.st_mtime_ns]
    return out


@dataclass
class Snapshot:
    """The tables and the files, as one plan saw them."""

    tables: dict[str, list[int]]
    files: list[list[Any]]
    ignores: list[list[Any]]


def snapshot(folder: Path, inputs: Sequence[str | Path]) -> tuple[Snapshot, list[Path]] | None:
    """The tables, then the files (and their paths); None where one cannot be stamped."""
    versions = tables(folder)
    if versions is None:
        return None
    try:
        files, ignores = listing(inputs)
    except (UsageError, OSError):
        return None
    stamped, stamped_ignores = _stamp(files), _stamp(ignores)
    if stamped is None or stamped_ignores is None:
        return None
    return Snapshot(versions, stamped, stamped_ignores), files


def _racy(snap: Snapshot, planned_at_ns: int) -> bool:
    cut = planned_at_ns - int(RACY_S * 1e9)
    return any(f[3] >= cut for f in [*snap.files, *snap.ignores])


def write(folder: Path, key: dict[str, Any], before: Snapshot, after: Snapshot,
          planned_at_ns: int, report: IngestReport) -> bool:  # fmt: skip
    """Keep the manifest of a plan that found nothing to do: ``before`` and ``after`` are the
    tables and files stamped before and after it. Not kept (False) when they differ or a file
    is racy; a manifest already there is then left to its own versions and files."""
    if before != after or _racy(before, planned_at_ns):
        return False
    said = {"unchanged": report.unchanged, "excluded": report.excluded, "failed": report.failed}
    body = {
        **key,
        "tables": before.tables,
        "files": before.files,
        "ignores": before.ignores,
        "report": said,
    }
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(body, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / MANIFEST)
    return True


def unchanged(folder: str | Path, inputs: Sequence[str | Path], sync: bool,
              exclude: Sequence[str]) -> IngestReport | None:  # fmt: skip
    """The report of ingesting ``inputs`` into the collection at ``folder`` when the manifest
    shows that it would change nothing; None when the full path must decide."""
    t0 = time.perf_counter()
    if "://" in str(folder):
        return None  # object storage: its tables are not listed here
    folder = Path(folder)
    try:
        with open(folder / MANIFEST, encoding="utf-8") as f:
            kept = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("format") != FORMAT:
        return None
    key = fact(inputs, sync, exclude)
    if any(kept.get(k) != v for k, v in key.items()):
        return None
    now = snapshot(folder, inputs)
    if now is None:
        return None
    snap = now[0]
    if [snap.tables, snap.files, snap.ignores] != [kept["tables"], kept["files"], kept["ignores"]]:
        return None
    r = kept["report"]
    failed = [(str(p), str(c)) for p, c in r["failed"]]
    return IngestReport(unchanged=r["unchanged"], excluded=r["excluded"], failed=failed,
                        seconds=time.perf_counter() - t0)  # fmt: skip
