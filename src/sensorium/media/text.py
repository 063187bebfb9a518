"""Read text files (UTF-8 or UTF-16 with BOM) with a size bound."""

from __future__ import annotations

from pathlib import Path

from sensorium.errors import DecodeError, MediaTooLargeError
from sensorium.media.types import TextMedia

__all__ = ["MAX_TEXT_BYTES", "load_text"]

MAX_TEXT_BYTES = 10 * 1024 * 1024


def load_text(path: str | Path) -> TextMedia:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise MediaTooLargeError(path, f"text over {MAX_TEXT_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as e:
        raise DecodeError(path, e.strerror or str(e)) from e
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = raw.decode(encoding).strip()
    except UnicodeDecodeError as e:
        raise DecodeError(path, f"not valid {encoding} text ({e.reason})") from e
    if not text:
        raise DecodeError(path, "the text file is empty")
    return TextMedia(path=str(path), text=text)
