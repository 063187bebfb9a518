"""``sensorium.open(db) -> Collection``: ingest, search, stats and show over one store."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sensorium.errors import NotFoundError, UsageError
from sensorium.perceive.inputs import expand_paths
from sensorium.search import Hit, Query, search, similar
from sensorium.search.query import filter_clause
from sensorium.space import SharedSpace, default_space
from sensorium.store import IngestReport, Item, LanceStore, ingest

__all__ = ["Collection", "default_db", "open_collection"]


def default_db() -> Path:
    """``$SENSORIUM_DB``, else ``./.sensorium``."""
    return Path(os.environ.get("SENSORIUM_DB", ".sensorium"))


class Collection:
    def __init__(self, folder: str | Path | None = None, space: SharedSpace | None = None):
        self.folder = Path(folder) if folder else default_db()
        self.store = LanceStore(self.folder)
        self.space = space or default_space()

    def ingest(
        self,
        inputs: Iterable[str | Path],
        sync: bool = False,
        batch_size: int = 64,
        on_planned: Callable[[int], None] = lambda _: None,
        on_done: Callable[[int], None] = lambda _: None,
        video_fps: float = 1.0,
    ) -> IngestReport:
        """Add new and changed files (folders recursively, globs); ``sync`` drops vanished ones.
        Videos are sampled at ``video_fps`` frames a second, plus the first frame of each shot."""
        if batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        if video_fps <= 0:
            raise UsageError("--video-fps must be above 0")
        inputs = list(inputs)
        roots = [Path(p) for p in inputs if Path(p).exists()]
        return ingest(self.store, self.space, expand_paths(inputs), roots, sync, batch_size,
                      video_fps, on_planned, on_done)  # fmt: skip

    def search(
        self,
        text: str | None = None,
        image: str | Path | None = None,
        audio: str | Path | None = None,
        weights: dict[str, float] | None = None,
        k: int = 10,
        kind: str | None = None,
        path: str | None = None,
        target: str | None = None,
    ) -> list[Hit]:
        """The ``k`` best files; a video as its best moment (``hit.item.start``, ``.end``).

        ``target`` ("seen", "heard" or "said") matches the text against that part only; a
        query such as "where does she say budget" sets it by itself.
        """
        query = Query(text, Path(image) if image else None, Path(audio) if audio else None,
                      weights or {}, kind, path, target)  # fmt: skip
        return search(self.store, self.space, query, k)

    def stats(self) -> dict[str, Any]:
        failures = self.store.failures()
        return {
            "items": self.store.files(),
            "moments": self.store.count(),
            "by_type": self.store.kinds(),
            "failed": len(failures),
            "failures": [{"path": f.path, "error": f.error} for f in failures],
            **self.store.info(),
        }

    def show(self, key: str) -> Item | None:
        """An item by id or path (a relative path is resolved first); a video's first moment."""
        return self.store.get(key) or self.store.get(str(Path(key).resolve()))

    def item(self, key: str) -> Item:
        """As ``show``, but a key that names no item raises ``NotFoundError``."""
        item = self.show(key)
        if item is None:
            raise NotFoundError(f"no item {key!r} in the collection")
        return item

    def details(self, key: str) -> dict[str, Any]:
        """Everything stored about an item, as JSON; a video's moments in time order (its
        per-moment labels, transcript and segments are in the moments)."""
        item = self.item(key)
        data = item.to_json()
        if item.kind == "video":
            for name in ("labels", "transcript", "segments"):
                data.pop(name)
            data["moments"] = [m.moment_json() for m in self.store.moments(item.path)]
        return data

    def similar(
        self, key: str, k: int = 10, kind: str | None = None, path: str | None = None
    ) -> list[Hit]:
        """More like this: the ``k`` files nearest to an item (by id or path), not itself."""
        if k < 1:
            raise UsageError("k must be at least 1")
        return similar(self.store, self.item(key), k, filter_clause(kind, path))

    def moments(self, key: str) -> list[Item]:
        """Every stored moment of a file, in time order (one item for a file that is not a
        video; none for an unknown file)."""
        item = self.show(key)
        return self.store.moments(item.path) if item else []


def open_collection(db: str | Path | None = None) -> Collection:
    return Collection(db)
