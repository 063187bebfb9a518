"""The one exception hierarchy of Sensorium.

    SensoriumError                  every error the library raises on purpose   kind
    ├── UsageError                  wrong arguments (CLI exit status 2)          usage
    ├── NotFoundError               no such item or file                         missing
    ├── MediaError                  one input file could not be used; names it   unusable
    │   ├── UnsupportedMediaError   bytes are not a kind of media we read        unsupported
    │   ├── DecodeError             a known kind, but corrupt, truncated, empty  corrupt
    │   ├── MissingFileError        no such file (or a link to nothing)          missing
    │   └── MediaTooLargeError      over a safety bound (pixels, duration, bytes) too_large
    └── ModelError                  a model could not be made ready              model
        ├── ModelNotInstalledError  not in the cache: run `sensorium models install`
        └── ChecksumError           a file's sha256 differs from its model card

Every class names its ``kind`` (the right-hand column), so an edge maps an error by what it
is, not by its message: the CLI to an exit status, the service to an HTTP status (415 for
unsupported, 422 for corrupt, 413 for too large, 404 for missing). ``to_json()`` gives
``{"error": kind, "detail": one line}``.

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
    "MissingFileError",
    "ModelError",
    "ModelNotInstalledError",
    "NotFoundError",
    "SensoriumError",
    "UnsupportedMediaError",
    "UsageError",
]


class SensoriumError(Exception):
    """Base of every error Sensorium raises on purpose."""

    kind = "error"  # what went wrong, in one word: the edges map errors by it

    def to_json(self) -> dict[str, str]:
        return {"error": self.kind, "detail": str(self).splitlines()[0] if str(self) else ""}


class UsageError(SensoriumError, ValueError):
    """Arguments that cannot work together, or a value out of range."""

    kind = "usage"


class NotFoundError(SensoriumError, LookupError):
    """No item with this id or path in the collection, or no such file."""

    kind = "missing"


class MediaError(SensoriumError):
    """An input file could not be used. ``str(err)`` is ``"<path>: <cause>"``."""

    kind = "unusable"

    def __init__(self, path: str | Path, cause: str) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class UnsupportedMediaError(MediaError):
    """The bytes are not an image, audio, video or text file we can read."""

    kind = "unsupported"


class DecodeError(MediaError):
    """A known kind of file that is corrupt, truncated or empty."""

    kind = "corrupt"


class MissingFileError(MediaError):
    """An input path that names no file."""

    kind = "missing"


class MediaTooLargeError(MediaError):
    """The file exceeds a safety bound (decompression bomb, endless audio)."""

    kind = "too_large"


class ModelError(SensoriumError):
    """A model could not be installed, verified or loaded."""

    kind = "model"


class ModelNotInstalledError(ModelError):
    """The model's files are not in the cache."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"model {name!r} is not installed: run `sensorium models install {name}`")


class ChecksumError(ModelError):
    """A model file's sha256 does not match its card; the file is never loaded."""
