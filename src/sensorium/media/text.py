"""Read text files (UTF-8, UTF-16 with a byte-order mark, else 8-bit Windows/Latin-1 text)
with a size bound."""

from __future__ import annotations

from pathlib import Path

from sensorium.errors import DecodeError, MediaTooLargeError
from sensorium.media.types import TextMedia

__all__ = ["MAX_TEXT_BYTES", "load_text"]

MAX_TEXT_BYTES = 10 * 1024 * 1024


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as e:
            raise DecodeError(path, f"not valid UTF-16 text ({e.reason})") from e
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass  # older editors write 8-bit text; CP-1252 is a superset of Latin-1's letters
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # never fails: every byte is a character


def load_text(path: str | Path) -> TextMedia:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise MediaTooLargeError(path, f"text over {MAX_TEXT_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as e:
        raise DecodeError(path, e.strerror or str(e)) from e
    text = _decode(path, raw).strip()
    if not text:
        raise DecodeError(path, "the text file is empty")
    return TextMedia(path=str(path), text=text)
