"""Decode images: orientation, alpha, bounded size, reduced-scale decoding.

Pillow reads JPEG, PNG, GIF, BMP, TIFF, WebP and AVIF itself, HEIC/HEIF through the
``pillow-heif`` plugin (registered on first use: importing it costs 0.15 s), and camera RAW
goes to LibRaw (``media/raw.py``), recognised by its bytes before Pillow sees it (a NEF or a
DNG is a TIFF to Pillow, which would show its thumbnail).
"""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from sensorium.errors import DecodeError, MediaTooLargeError
from sensorium.media.raw import load_raw, raw_format
from sensorium.media.types import ImageMedia

__all__ = ["MAX_PIXELS", "heif_support", "load_image", "read_head"]

MAX_PIXELS = 100_000_000  # 100 MP: above this we refuse (decompression-bomb guard)

# Broken EXIF only loses the orientation: Pillow's warning would print two lines of its own
# source to a user's terminal. Set once, for the process: ``catch_warnings`` is not
# thread-safe, and ingest decodes in threads.
warnings.filterwarnings("ignore", "Corrupt EXIF data", UserWarning)


def _to_rgb(im: Image.Image) -> Image.Image:
    """Composite transparency on white: cut-outs (PNG stamps) must not turn black."""
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return im.convert("RGB")


def _to_8bit(im: Image.Image) -> Image.Image:
    """Greyscale deeper than 8 bits (16-bit PNG and TIFF, 32-bit integer, float) as "L".
    Pillow's own conversion clips at 255, which leaves a 16-bit photo all white."""
    a = np.array(im)  # (H, W) uint16, int32 or float32: a copy, scaled in place
    if im.mode == "F":
        np.nan_to_num(a, copy=False)
        if a.size and a.max() <= 1.0:  # floats in [0, 1], else taken as [0, 255]
            a *= 255
    elif im.mode.startswith("I;16") or (a.size and a.max() > 255):  # 16 significant bits
        np.clip(a, 0, 65535, out=a)
        a >>= 8
    np.clip(a, 0, 255, out=a)
    return Image.fromarray(a.astype(np.uint8))


_DEEP = ("I", "F", "I;16", "I;16L", "I;16B", "I;16N")  # Pillow's modes above 8 bits a channel

ORIENTATION = 0x0112  # the EXIF tag
_T = Image.Transpose
_TRANSPOSE = {
    2: _T.FLIP_LEFT_RIGHT,
    3: _T.ROTATE_180,
    4: _T.FLIP_TOP_BOTTOM,
    5: _T.TRANSPOSE,
    6: _T.ROTATE_270,
    7: _T.TRANSVERSE,
    8: _T.ROTATE_90,
}  # as ImageOps.exif_transpose


def _reduced(im: Image.Image, min_side: int) -> Image.Image:
    """Shrink by a whole factor while the short side stays at least ``2 * min_side``, before
    any full-size copy (orientation, compositing) is made: a 9400 x 9400 PNG otherwise takes
    2 GB on its way to a 224-pixel encoder."""
    factor = min(im.size) // (2 * min_side)
    if factor < 2:
        return im
    if im.mode not in ("RGB", "RGBA", "L", "LA", "I", "F"):  # reduce() takes these modes
        im = im.convert("RGBA" if im.mode in ("P", "PA") or "transparency" in im.info else "RGB")
    return im.reduce(factor)


@functools.cache
def heif_support() -> None:
    """Let Pillow open HEIC/HEIF (once a process). libheif applies a HEIF's own rotation and
    mirroring as it decodes, and pillow-heif then reports EXIF orientation 1: never twice."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


# Formats whose decoder can decode a smaller version: JPEG by DCT scaling, HEIF by taking an
# embedded thumbnail (pillow-heif picks the smallest that is not smaller than asked).
_DRAFT = ("JPEG", "HEIF")


def read_head(path: Path, size: int = 8192) -> bytes:
    """The first ``size`` bytes of a file; a ``DecodeError`` when it cannot be read."""
    try:
        with path.open("rb") as f:
            return f.read(size)
    except OSError as e:
        raise DecodeError(path, e.strerror or str(e)) from e


def _over(pixels: str) -> str:
    return f"{pixels} is over the bound of {MAX_PIXELS:,} pixels (a decompression bomb?)"


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def load_image(path: str | Path, min_side: int | None = None) -> ImageMedia:
    """Decode ``path`` to RGB.

    ``min_side``: the caller will resize to about this many pixels, so a JPEG may be decoded
    at a reduced scale (DCT scaling, Pillow's ``draft``), a HEIF from its embedded thumbnail
    and a RAW from its preview when they are large enough: several times less CPU; other
    formats are shrunk by a whole factor right after decoding, to bound memory.
    """
    path = Path(path)
    if raw_format(read_head(path)) is not None:
        upright, width, height = load_raw(path, MAX_PIXELS, min_side)  # RGB
        image = _reduced(upright, min_side) if min_side else upright
        return ImageMedia(str(path), image, width, height)
    heif_support()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im: Image.Image = Image.open(path)
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise MediaTooLargeError(path, _over(f"{width}x{height} pixels"))
            if min_side and im.format in _DRAFT:
                im.draft("RGB", (min_side, min_side))
            im.seek(0)  # first frame of an animation
            im.load()
            orientation = im.getexif().get(ORIENTATION, 1)
            if im.mode in _DEEP:
                im = _to_8bit(im)
            if min_side:
                im = _reduced(im, min_side)
            if orientation in _TRANSPOSE:
                im = im.transpose(_TRANSPOSE[orientation])
            rgb = _to_rgb(im)
    except MediaTooLargeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        n = re.search(r"\((\d+) pixels\)", str(e))  # Pillow's words name the pixel count
        raise MediaTooLargeError(path, _over(f"{int(n[1]):,} pixels" if n else "its size")) from e
    except UnidentifiedImageError as e:  # its message repeats the path
        raise DecodeError(path, "cannot decode the image (a broken or unknown header)") from e
    except (OSError, ValueError, SyntaxError, EOFError, RuntimeError) as e:
        # RuntimeError: libheif's words for a broken HEIF that pillow-heif passes on
        raise DecodeError(path, f"cannot decode the image ({_first_line(e)})") from e
    return ImageMedia(path=str(path), image=rgb, width=width, height=height)
