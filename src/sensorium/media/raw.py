"""Camera RAW files (CR2, CR3, NEF, ARW, DNG, RAF, ORF, RW2, PEF), recognised by their bytes
and decoded with LibRaw (``rawpy``).

Most cameras keep a JPEG preview inside the RAW, often the full size: when it is large enough
for what the caller wants, it is decoded instead of the sensor data (a tenth of the time).
Otherwise the mosaic is demosaiced at half size (``half_size``: each 2 x 2 block of the sensor
one pixel, no interpolation), which is still larger than any encoder needs. Either way the
camera's orientation is applied. Errors are ``MediaError``s naming the file.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sensorium.errors import DecodeError, MediaTooLargeError

__all__ = ["RAW_FORMATS", "load_raw", "raw_format", "raw_preview"]

RAW_FORMATS = ("ARW", "CR2", "CR3", "DNG", "NEF", "ORF", "PEF", "RAF", "RW2", "RAW")

# Signatures that only RAW files have.
_MAGIC = {b"FUJIFILMCCD-RAW": "RAF", b"IIRO": "ORF", b"IIRS": "ORF", b"MMOR": "ORF",
          b"IIU\x00": "RW2"}  # fmt: skip
# TIFF-based RAWs whose first directory names the camera: the maker says which format. A
# camera writes no other TIFF, but a scanner or an editor may carry a maker's name: the
# directory must also have the shape of a RAW (sub-directories, a preview or a sensor mosaic).
_MAKERS = {"NIKON": "NEF", "SONY": "ARW", "PENTAX": "PEF", "RICOH": "PEF", "CANON": "CR2",
           "SAMSUNG": "RAW", "HASSELBLAD": "RAW", "PHASE ONE": "RAW", "LEAF": "RAW",
           "KODAK": "RAW", "MAMIYA": "RAW", "LEICA": "RAW", "MINOLTA": "RAW"}  # fmt: skip
_DNG_VERSION, _MAKE, _SUB_IFDS, _NEW_SUBFILE, _PHOTOMETRIC = 50706, 271, 330, 254, 262
_MOSAIC = (32803, 34892)  # photometric: a colour filter array, linear raw

# LibRaw's ``flip`` -> the transpose that shows the image upright (as EXIF 3, 6, 8).
_T = Image.Transpose
_FLIP = {3: _T.ROTATE_180, 5: _T.ROTATE_90, 6: _T.ROTATE_270}


def _tiff_ifd0(head: bytes) -> dict[int, tuple[int, int, bytes]] | None:
    """The first directory of a TIFF in ``head``: tag -> (type, count, value or offset
    bytes); None when it is not a TIFF or the directory lies beyond ``head``."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(head[:4])
    if order is None or len(head) < 8:
        return None
    (offset,) = struct.unpack(order + "I", head[4:8])
    if offset + 2 > len(head):
        return None
    (n,) = struct.unpack(order + "H", head[offset : offset + 2])
    entries = {}
    for i in range(min(n, 512)):
        at = offset + 2 + 12 * i
        if at + 12 > len(head):
            break
        tag, typ, count = struct.unpack(order + "HHI", head[at : at + 8])
        entries[tag] = (typ, count, head[at + 8 : at + 12])
    entries[-1] = (0, 0, order.encode())  # the byte order, for reading values
    return entries


def _ascii(head: bytes, entry: tuple[int, int, bytes], order: str) -> str:
    _, count, value = entry
    if count <= 4:
        raw = value[:count]
    else:
        (at,) = struct.unpack(order + "I", value)
        raw = head[at : at + count]
    return raw.split(b"\x00")[0].decode("latin-1").strip()


def _short(entry: tuple[int, int, bytes], order: str) -> int:
    typ, _, value = entry
    return int(struct.unpack(order + ("H" if typ == 3 else "I"), value[: 2 if typ == 3 else 4])[0])


def raw_format(head: bytes) -> str | None:
    """The RAW format whose bytes ``head`` begins (the first few KB of a file), or None."""
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp" and head[8:12] == b"crx ":
        return "CR3"
    if head[:4] == b"II*\x00" and head[8:10] == b"CR":
        return "CR2"
    ifd = _tiff_ifd0(head)
    if ifd is None:
        return None
    order = ifd.pop(-1)[2].decode()
    if _DNG_VERSION in ifd:
        return "DNG"
    make = _ascii(head, ifd[_MAKE], order).upper() if _MAKE in ifd else ""
    maker = next((f for m, f in _MAKERS.items() if make.startswith(m)), None)
    if maker is None:
        return None
    shaped = _SUB_IFDS in ifd or (
        _NEW_SUBFILE in ifd and _short(ifd[_NEW_SUBFILE], order) == 1
    ) or (_PHOTOMETRIC in ifd and _short(ifd[_PHOTOMETRIC], order) in _MOSAIC)  # fmt: skip
    return maker if shaped else None


def _cause(e: Exception) -> str:
    """LibRaw's words for an error (bytes in rawpy's exceptions)."""
    text = e.args[0] if e.args else e
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).rstrip(".").lower() or type(e).__name__


def _open(path: Path) -> Any:
    import rawpy

    try:
        return rawpy.imread(str(path))
    except (rawpy.LibRawError, OSError, ValueError) as e:
        raise DecodeError(path, f"cannot read the camera RAW ({_cause(e)})") from e


def _preview(raw: Any, load: bool = True) -> Image.Image | None:
    """The camera's embedded preview (JPEG or bitmap) as it is stored (not yet upright), or
    None when there is none or it cannot be read. ``load``: decode its pixels now (else only
    its header is read: enough for its EXIF)."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, ValueError):
        return None
    if thumb.format == rawpy.ThumbFormat.BITMAP:
        return Image.fromarray(np.ascontiguousarray(thumb.data))
    try:
        im = Image.open(io.BytesIO(thumb.data))
        if load:
            im.load()  # the bytes are in memory: a broken preview fails here, not later
        return im
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def raw_preview(path: str | Path) -> Image.Image | None:
    """The embedded preview of a RAW file, its pixels not decoded (for its EXIF: a RAF keeps
    it only there); None when there is none. Raises ``DecodeError``."""
    raw = _open(Path(path))
    try:
        return _preview(raw, load=False)
    finally:
        raw.close()


def load_raw(path: Path, max_pixels: int, min_side: int | None) -> tuple[Image.Image, int, int]:
    """(upright RGB image, sensor width, height). ``min_side``: the caller resizes to about
    this many pixels, so a preview whose short side is at least twice it will do; without it
    (text is read in the image), a preview of at least half the sensor's size."""
    import rawpy

    raw = _open(path)
    try:
        sizes = raw.sizes
        width, height = int(sizes.width), int(sizes.height)
        if width * height > max_pixels:
            bound = f"the bound of {max_pixels:,} pixels (a decompression bomb?)"
            raise MediaTooLargeError(path, f"{width}x{height} pixels is over {bound}")
        need = 2 * min_side if min_side else min(width, height) // 2
        preview = _preview(raw)
        if preview is not None and min(preview.size) >= need:
            im = preview.convert("RGB")
            flip = _FLIP.get(int(sizes.flip))
            return (im.transpose(flip) if flip is not None else im), width, height
        try:
            # (H/2, W/2, 3) uint8, upright: LibRaw applies the camera's orientation itself
            rgb = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
        except (rawpy.LibRawError, ValueError, MemoryError) as e:
            raise DecodeError(path, f"cannot decode the camera RAW ({_cause(e)})") from e
        return Image.fromarray(rgb), width, height
    finally:
        raw.close()
