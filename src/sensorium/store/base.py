"""The ``Store`` interface. One implementation per module: ``lance.py`` (the default)."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from sensorium.store.records import Failure, FileState, Item

__all__ = ["Store"]


class Store(Protocol):
    """A collection's storage. Every write is atomic: a batch is all visible or not at all."""

    def states(self) -> dict[str, FileState]:
        """Every known path (items and failures) -> its recorded state."""
        ...

    def upsert(self, items: list[Item]) -> None:
        """Insert or replace items by id, in one commit; clears failures of the same paths."""
        ...

    def touch(self, mtimes: dict[str, float]) -> None:
        """Record new modification times for files whose content did not change."""
        ...

    def record_failures(self, failures: list[Failure]) -> None: ...

    def delete(self, paths: list[str]) -> None:
        """Forget items and failures of these paths."""
        ...

    def search(
        self, vector: np.ndarray, k: int, where: str | None = None
    ) -> list[tuple[Item, float]]:
        """The ``k`` items nearest to ``vector`` (384,), with cosine similarity, best first."""
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
