"""Camera formats written by their own libraries, for the tests and benchmarks/formats.py:
HEIC by pillow-heif (libheif, x265), AVIF and WebP by Pillow (libavif, libwebp), and DNG by
tifffile: a real Adobe DNG 1.4 (a colour filter array of 12-bit samples, the tags LibRaw
reads to demosaic it), optionally with an RGB preview in its first directory and the mosaic
in a sub-directory, as cameras and converters write it. No other RAW (CR2, NEF, ARW, RAF)
has a writer that installs from a registry: those are tested by their headers.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["FORMATS", "compass", "iptc_block", "jpeg_with_app13", "write", "write_dng", "xmp"]

ORIENTATION = 0x0112
WHITE = 4095  # 12-bit samples


def compass(height: int = 240, width: int = 360) -> np.ndarray:
    """(H, W, 3) uint8 that shows which way is up: red on the left, blue on the right, a white
    band along the top."""
    a = np.zeros((height, width, 3), np.uint8)
    a[:, : width // 2] = (220, 30, 30)
    a[:, width // 2 :] = (30, 30, 220)
    a[: height // 6] = 255
    return a


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F], exif[0x0110] = "Sensorium", "Test Camera"
    return exif.tobytes()


def _srational(values: list[float]) -> list[int]:
    out = []
    for v in values:
        out += [round(v * 10000), 10000]
    return out


def write_dng(path: Path, rgb: np.ndarray, orientation: int = 1,
              preview: np.ndarray | None = None) -> Path:  # fmt: skip
    """``rgb`` (H, W, 3) uint8 as the sensor of an RGGB camera saw it; ``preview``: an RGB
    image stored beside the mosaic (in IFD0, the mosaic in a sub-IFD)."""
    import tifffile

    linear = (rgb.astype(np.float32) / 255.0) ** 2.2 * (WHITE * 0.9)  # (H, W, 3) sensor counts
    h, w = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    cfa = np.empty((h, w), np.uint16)  # (H, W) one colour a photosite: R G / G B
    cfa[0::2, 0::2] = linear[0:h:2, 0:w:2, 0]
    cfa[0::2, 1::2] = linear[0:h:2, 1:w:2, 1]
    cfa[1::2, 0::2] = linear[1:h:2, 0:w:2, 1]
    cfa[1::2, 1::2] = linear[1:h:2, 1:w:2, 2]
    main = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, "Sensorium Test Camera", True),  # UniqueCameraModel
        (50721, "2i", 9, _srational([1, 0, 0, 0, 1, 0, 0, 0, 1]), True),  # ColorMatrix1
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
        (271, "s", 0, "Sensorium", True),  # Make
        (272, "s", 0, "Test Camera", True),  # Model
        (274, "H", 1, orientation, True),  # Orientation
    ]
    mosaic = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
        (50710, "B", 3, (0, 1, 2), True),  # CFAPlaneColor
        (50711, "H", 1, 1, True),  # CFALayout: rectangular
        (50714, "H", 1, 0, True),  # BlackLevel
        (50717, "H", 1, WHITE, True),  # WhiteLevel
    ]
    with tifffile.TiffWriter(path) as tw:
        if preview is None:
            tw.write(cfa, photometric=32803, extratags=main + mosaic, metadata=None)
        else:
            tw.write(preview, photometric="rgb", subfiletype=1, subifds=1, extratags=main,
                     metadata=None)  # fmt: skip
            tw.write(cfa, photometric=32803, extratags=mosaic, metadata=None)
    return path


Writer = Callable[[Path, np.ndarray, int], Path]


def _pillow(fmt: str) -> Writer:
    def save(path: Path, rgb: np.ndarray, orientation: int = 1) -> Path:
        if fmt == "HEIF":
            from pillow_heif import register_heif_opener

            register_heif_opener()
        Image.fromarray(rgb).save(path, fmt, quality=85, exif=_exif(orientation))
        return path

    return save


# format -> (suffix, writer(path, rgb, orientation) -> path)
FORMATS: dict[str, tuple[str, Writer]] = {
    "jpeg": (".jpg", _pillow("JPEG")),
    "heic": (".heic", _pillow("HEIF")),
    "avif": (".avif", _pillow("AVIF")),
    "webp": (".webp", _pillow("WEBP")),
    "dng": (".dng", write_dng),
}


def write(fmt: str, folder: Path, name: str, rgb: np.ndarray, orientation: int = 1) -> Path:
    """``rgb`` written as ``folder/name.<suffix>`` in ``fmt`` (a key of ``FORMATS``)."""
    suffix, writer = FORMATS[fmt]
    return writer(folder / f"{name}{suffix}", rgb, orientation)


# What people write into their files: XMP packets and IPTC, as their tools write them.


def xmp(title: str, description: str, keywords: list[str]) -> bytes:
    """An XMP packet as Lightroom, darktable and digiKam write one."""
    bag = "".join(f"<rdf:li>{k}</rdf:li>" for k in keywords)
    alt = '<rdf:li xml:lang="de">Deutsch</rdf:li>'  # another language: not the default's
    alt += f'<rdf:li xml:lang="x-default">{description}</rdf:li>'
    about = f"<dc:description><rdf:Alt>{alt}</rdf:Alt></dc:description>" if description else ""
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
  {about}
  <dc:subject><rdf:Bag>{bag}</rdf:Bag></dc:subject>
 </rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>""".encode()


def iptc_block(records: list[tuple[int, int, bytes]]) -> bytes:
    """IPTC-IIM datasets wrapped as Photoshop writes them (an 8BIM resource 0x0404)."""
    iim = b"".join(b"\x1c" + bytes([r, d]) + struct.pack(">H", len(v)) + v for r, d, v in records)
    iim += b"\x00" * (len(iim) % 2)
    return b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iim)) + iim


def jpeg_with_app13(path: Path, block: bytes, packet: bytes | None = None) -> Path:
    """A JPEG from Pillow (with an XMP ``packet``) and an APP13 "Photoshop 3.0" segment put
    after SOI, as Photoshop writes IPTC."""
    Image.fromarray(compass()).save(path, "JPEG", xmp=packet or b"")
    data = path.read_bytes()
    payload = b"Photoshop 3.0\x00" + block
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    path.write_bytes(data[:2] + segment + data[2:])
    return path
