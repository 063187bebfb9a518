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

Every name but the errors is imported on first use: ``Collection`` and ``open`` load the
store (LanceDB, pyarrow: 160 MB and a second or more of start-up), the functions the models'
code, so a process that only classifies never imports the store, and one that only reads a
collection's manifest (an unchanged ingest) imports neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from sensorium.api import embed, embed_text, model_cards, summarize
    from sensorium.collection import Collection
    from sensorium.collection import open_collection as open
    from sensorium.engine import Engine, Settings, default_engine
    from sensorium.perceive.classify import classify
    from sensorium.perceive.describe import describe
    from sensorium.perceive.read import read
    from sensorium.perceive.results import Classification, Description, Reading, Transcription
    from sensorium.perceive.transcribe import transcribe

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


# name -> (module, its name there), imported on first use: the models' code (ONNX Runtime,
# faster-whisper, PyAV: a second of start-up) loads only when something needs it, so that a
# command with nothing to encode (an unchanged ingest) never imports it.
_PERCEIVE = ("Classification", "Description", "Reading", "Transcription", "classify", "describe",
             "read", "transcribe")  # fmt: skip
_LAZY = {
    "Collection": ("sensorium.collection", "Collection"),
    "open": ("sensorium.collection", "open_collection"),
    **{n: ("sensorium.api", n) for n in ("embed", "embed_text", "model_cards", "summarize")},
    **{n: ("sensorium.engine", n) for n in ("Engine", "Settings", "default_engine")},
    **{n: ("sensorium.perceive", n) for n in _PERCEIVE},
}


def __getattr__(name: str) -> Any:
    """The library's functions and classes, imported on first use (PEP 562)."""
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names and the lazy ones, not yet loaded (PEP 562)."""
    return sorted({*globals(), *_LAZY})
