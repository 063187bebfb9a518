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
"""

from sensorium.api import embed, embed_text, model_cards, summarize
from sensorium.collection import Collection
from sensorium.collection import open_collection as open
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
