"""Storage of a collection: the ``Store`` interface, its LanceDB backend, incremental ingest."""

from sensorium.store.base import Store
from sensorium.store.ingest import IngestReport, ingest
from sensorium.store.lance import LanceStore
from sensorium.store.records import Failure, FileState, Item

__all__ = ["Failure", "FileState", "IngestReport", "Item", "LanceStore", "Store", "ingest"]
