"""Sensorium: a multimodal AI engine.

Text, images, audio and video in one language-bound space, offline on a CPU::

    import sensorium
    sensorium.classify(["cat.jpg", "bark.ogg"], labels=["cat", "dog", "car"])
    sensorium.transcribe(["meeting.wav"], model="base")
    sensorium.read(["receipt.png"])  # text in images (pip install 'sensorium[ocr]')
    sensorium.describe(["cat.jpg", "bark.ogg"])  # labels, text read, what is said, a caption
    vectors = sensorium.embed(["cat.jpg"])  # (1, 384)
    timeline = sensorium.summarize("talk.mp4")  # segments: seen, heard, said
    photos = sensorium.open("my.db"); photos.ingest(["~/Pictures"]); photos.search("a dog")

``Collection`` and ``open`` load the store (LanceDB, pyarrow: 160 MB and a second or more of
start-up) on first use, so a process that only classifies, transcribes or summarises never
imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sensorium.api import embed, embed_text, model_cards, summarize
from sensorium.engine import Engine, Settings, default_engine
from sensorium.errors import (
    ChecksumError,
    DecodeError,
    MediaError,
    MediaTooLargeError,
    MissingFileError,
    ModelError,
    ModelNotInstalledError,
    NotFoundError,
    SensoriumError,
    UnsupportedMediaError,
    UsageError,
)
from sensorium.perceive import (
    Classification,
    Description,
    Reading,
    Transcription,
    classify,
    describe,
    read,
    transcribe,
)

if TYPE_CHECKING:
    from sensorium.collection import Collection
    from sensorium.collection import open_collection as open

__version__ = "0.1.0"

__all__ = [
    "ChecksumError",
    "Classification",
    "Collection",
    "DecodeError",
    "Description",
    "Engine",
    "MediaError",
    "MediaTooLargeError",
    "MissingFileError",
    "ModelError",
    "ModelNotInstalledError",
    "NotFoundError",
    "Reading",
    "SensoriumError",
    "Settings",
    "Transcription",
    "UnsupportedMediaError",
    "UsageError",
    "__version__",
    "classify",
    "default_engine",
    "describe",
    "embed",
    "embed_text",
    "model_cards",
    "open",
    "read",
    "summarize",
    "transcribe",
]


_LAZY = ("Collection", "open")


def __getattr__(name: str) -> Any:
    """``Collection`` and ``open``, imported on first use (PEP 562)."""
    if name in _LAZY:
        from sensorium import collection

        value = collection.Collection if name == "Collection" else collection.open_collection
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names and the lazy ones, not yet loaded (PEP 562)."""
    return sorted({*globals(), *_LAZY})
