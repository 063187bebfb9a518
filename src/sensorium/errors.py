"""The one exception hierarchy of Sensorium.

    SensoriumError                  every error the library raises on purpose
    ├── UsageError                  wrong arguments (CLI exit status 2)
    ├── MediaError                  one input file could not be used; names the file
    │   ├── UnsupportedMediaError   bytes are not a kind of media we read
    │   ├── DecodeError             a known kind, but corrupt, truncated or empty
    │   └── MediaTooLargeError      over a safety bound (pixels, duration, bytes)
    └── ModelError                  a model could not be made ready
        ├── ModelNotInstalledError  not in the cache: run `sensorium models install`
        └── ChecksumError           a file's sha256 differs from its model card

Lower-level errors (Pillow, PyAV, ONNX Runtime, pip) are translated at the boundary with
``raise X(...) from e`` so a user sees one line naming the file and the cause.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ChecksumError",
    "DecodeError",
    "MediaError",
    "MediaTooLargeError",
    "ModelError",
    "ModelNotInstalledError",
    "SensoriumError",
    "UnsupportedMediaError",
    "UsageError",
]


class SensoriumError(Exception):
    """Base of every error Sensorium raises on purpose."""


class UsageError(SensoriumError, ValueError):
    """Arguments that cannot work together, or a value out of range."""


class MediaError(SensoriumError):
    """An input file could not be used. ``str(err)`` is ``"<path>: <cause>"``."""

    def __init__(self, path: str | Path, cause: str) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class UnsupportedMediaError(MediaError):
    """The bytes are not an image, audio, video or text file we can read."""


class DecodeError(MediaError):
    """A known kind of file that is corrupt, truncated or empty."""


class MediaTooLargeError(MediaError):
    """The file exceeds a safety bound (decompression bomb, endless audio)."""


class ModelError(SensoriumError):
    """A model could not be installed, verified or loaded."""


class ModelNotInstalledError(ModelError):
    """The model's files are not in the cache."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"model {name!r} is not installed: run `sensorium models install {name}`")


class ChecksumError(ModelError):
    """A model file's sha256 does not match its card; the file is never loaded."""
