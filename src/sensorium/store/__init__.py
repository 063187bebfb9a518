"""Storage of a collection: the ``Store`` interface, its LanceDB backend, incremental ingest.

Only LanceDB is lazy: ``LanceStore`` imports it (about 110 MB and a second of start-up) on
first use, so importing ``Filter`` or the records does not. pyarrow still loads with this
package (``store.base`` builds its tables and filters with it). ``ingest`` stays eager: it is
also the name of a submodule, and a lazy attribute would hand out the module once imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sensorium.store.base import Store
from sensorium.store.ingest import IngestReport, ingest
from sensorium.store.records import Failure, FileState, Item

if TYPE_CHECKING:
    from sensorium.store.lance import LanceStore

__all__ = ["Failure", "FileState", "IngestReport", "Item", "LanceStore", "Store", "ingest"]


def __getattr__(name: str) -> Any:
    """``LanceStore``, imported on first use (PEP 562)."""
    if name == "LanceStore":
        from sensorium.store.lance import LanceStore

        globals()[name] = LanceStore  # later lookups skip this function
        return LanceStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
