"""What a photo's EXIF says about it: when it was taken and with which camera.

Read with Pillow from the file's header only (no pixels decoded). A file without EXIF, or
with broken EXIF, has none: ``(0.0, "")``; this never raises for a bad file.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

__all__ = ["PhotoMeta", "photo_meta"]

_DATE_TIME_ORIGINAL = 0x9003  # in the Exif sub-IFD
_DATE_TIME = 0x0132  # in IFD0: when the file was last changed, a fallback
_MAKE, _MODEL = 0x010F, 0x0110
_EXIF_IFD = 0x8769
_DATE = re.compile(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


@dataclass(frozen=True)
class PhotoMeta:
    taken: float = 0.0  # Unix seconds, the camera's clock read as UTC (EXIF has no zone); 0 unknown
    camera: str = ""  # "Make Model", the make not repeated ("Canon Canon EOS 5D" -> "Canon EOS 5D")


def _seconds(value: object) -> float:
    m = _DATE.match(str(value or "").strip())
    if not m:
        return 0.0
    try:
        parts = [int(g) for g in m.groups()]
        return float(calendar.timegm((*parts, 0, 0, 0)))
    except (ValueError, OverflowError):
        return 0.0


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return " ".join(str(value or "").replace("\x00", " ").split())


def photo_meta(path: str | Path) -> PhotoMeta:
    """The date taken and camera of a JPEG, TIFF, WebP, PNG or HEIF with EXIF."""
    try:
        with Image.open(path) as im:
            exif = im.getexif()
            sub = exif.get_ifd(_EXIF_IFD)
            taken = _seconds(sub.get(_DATE_TIME_ORIGINAL)) or _seconds(exif.get(_DATE_TIME))
            make, model = _text(exif.get(_MAKE)), _text(exif.get(_MODEL))
    except Exception:  # any unreadable header means: nothing known
        return PhotoMeta()
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}"
    return PhotoMeta(taken, camera.strip())
