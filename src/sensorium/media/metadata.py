"""What a photo says about itself: when and where it was taken and with which camera (EXIF,
or XMP's ``exif:GPSLatitude``), and the titles, descriptions and keywords people wrote into
it (XMP, IPTC) or beside it (an XMP sidecar: ``IMG_1.CR2.xmp`` or ``IMG_1.xmp``, as
Lightroom and darktable write them).

Read from the file's header only (no pixels decoded): Pillow for every format it opens
(HEIF through pillow-heif), and for a RAW that Pillow does not open (RAF, ORF, RW2, CR3) the
EXIF of its embedded preview. A file without any of it, or with broken metadata, has none:
``PhotoMeta()``; this never raises for a bad file. A GPS position that cannot be a place
(a zero denominator, no hemisphere, out of range, the receiver's "void" status, or exactly
0, 0: what phones write with no fix) is left out and said in ``gps_problem``.
"""

from __future__ import annotations

import calendar
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageFile, IptcImagePlugin

from sensorium.media.image import heif_support, read_head
from sensorium.media.raw import raw_format, raw_preview

__all__ = ["PhotoMeta", "Sidecars", "clean_keywords", "gps_position", "is_sidecar", "parse_iptc",
           "parse_xmp", "photo_meta", "sidecar_names"]  # fmt: skip

_DATE_TIME_ORIGINAL = 0x9003  # in the Exif sub-IFD
_DATE_TIME = 0x0132  # in IFD0: when the file was last changed, a fallback
_MAKE, _MODEL = 0x010F, 0x0110
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
# In the GPS IFD: latitude's hemisphere (N/S) and degrees, minutes, seconds; longitude's (E/W)
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_STATUS = 1, 2, 3, 4, 9
_XMP_TAG = 700  # a TIFF's XMP packet (DNG and TIFF-based RAWs too)
_DATE = re.compile(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")

_DC = "{http://purl.org/dc/elements/1.1/}"
_XMP_EXIF = "{http://ns.adobe.com/exif/1.0/}"  # exif:GPSLatitude="48,51.396N"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_HEAD = 1 << 20  # bytes of a RAW read for its metadata: it comes before the sensor data
_XMP_MAX = 2 << 20  # bytes of XMP read at most (a packet is a few KB; padding included)
# IPTC-IIM datasets (record 2): what a caption writer fills in
_IPTC_KEYWORDS, _IPTC_TITLE, _IPTC_HEADLINE, _IPTC_CAPTION = (2, 25), (2, 5), (2, 105), (2, 120)
_IPTC_UTF8 = (1, 90)  # "coded character set": ESC % G is UTF-8
MAX_KEYWORDS = 100  # per file: beyond that a list is noise, not description
MAX_KEYWORD = 100  # characters of one keyword
MAX_TEXT = 2000  # characters of a title or description


@dataclass(frozen=True)
class PhotoMeta:
    taken: float = 0.0  # Unix seconds, the camera's clock read as UTC (EXIF has no zone); 0 unknown
    camera: str = ""  # "Make Model", the make not repeated ("Canon Canon EOS 5D" -> "Canon EOS 5D")
    title: str = ""  # XMP dc:title, else IPTC object name or headline
    description: str = ""  # XMP dc:description, else IPTC caption
    keywords: tuple[str, ...] = ()  # XMP dc:subject and IPTC keywords, each once, as written
    latitude: float | None = None  # GPS, degrees north (south negative); None unknown
    longitude: float | None = None  # degrees east (west negative)
    gps_problem: str = ""  # why a GPS position the file holds was left out ("" none)


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


def clean_keywords(words: Iterable[str]) -> tuple[str, ...]:
    """Keywords trimmed, each once (case aside), in order; empty ones dropped. A ``|`` (the
    separator of a hierarchical keyword, "Places|Italy") stays: it is the writer's."""
    out: dict[str, str] = {}
    for word in words:
        word = " ".join(word.split())[:MAX_KEYWORD]
        if word and word.casefold() not in out:
            out[word.casefold()] = word
    return tuple(out.values())[:MAX_KEYWORDS]


def _packet(data: bytes) -> bytes | None:
    """The XMP packet's XML: from ``<x:xmpmeta`` (or a bare ``<rdf:RDF``) to its end tag. A
    document type is refused: XMP has none, and entities are how XML bombs are made."""
    data = data[:_XMP_MAX]
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None
    for start, end in ((b"<x:xmpmeta", b"</x:xmpmeta>"), (b"<x:xapmeta", b"</x:xapmeta>"),
                       (b"<rdf:RDF", b"</rdf:RDF>")):  # fmt: skip
        i, j = data.find(start), data.rfind(end)
        if i >= 0 and j > i:
            return data[i : j + len(end)]
    return None


def _items(node: ET.Element | None) -> list[ET.Element]:
    """The values of an XMP array property (``rdf:Bag``, ``rdf:Seq``, ``rdf:Alt``), or the
    property itself when it is a simple value."""
    if node is None:
        return []
    lis = node.findall(f"./*/{_RDF}li")
    return lis or [node]


def _alt(nodes: list[ET.Element]) -> str:
    """A language alternative: the default language's text, else the first."""
    texts = [(n.get(_XML_LANG), _text(n.text)) for n in nodes if _text(n.text)]
    return next((t for lang, t in texts if lang == "x-default"), texts[0][1] if texts else "")


def parse_xmp(data: bytes | str) -> PhotoMeta:
    """Title, description and keywords from an XMP packet (embedded or a sidecar's)."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    packet = _packet(raw)
    if packet is None:
        return PhotoMeta()
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return PhotoMeta()
    keywords: list[str] = []
    title = description = ""
    gps: tuple[float | None, float | None, str] = (None, None, "")
    for desc in root.iter(f"{_RDF}Description"):
        if gps[0] is None and not gps[2]:
            gps = _xmp_gps(desc)
        keywords += [_text(n.text) for n in _items(desc.find(f"{_DC}subject"))]
        # a simple property may also be written as an attribute: dc:title="..."
        title = title or _alt(_items(desc.find(f"{_DC}title"))) or _text(desc.get(f"{_DC}title"))
        description = (
            description
            or _alt(_items(desc.find(f"{_DC}description")))
            or _text(desc.get(f"{_DC}description"))
        )
    return PhotoMeta(title=title[:MAX_TEXT], description=description[:MAX_TEXT],
                     keywords=clean_keywords(keywords), latitude=gps[0], longitude=gps[1],
                     gps_problem=gps[2])  # fmt: skip


def _iptc_text(value: bytes, utf8: bool) -> str:
    try:
        return value.decode("utf-8")  # what nearly every writer uses, declared or not
    except UnicodeDecodeError:
        return value.decode("latin-1") if not utf8 else value.decode("utf-8", "replace")


def parse_iptc(info: dict[tuple[int, int], Any] | None) -> PhotoMeta:
    """Title, caption and keywords from IPTC-IIM datasets (Pillow's ``getiptcinfo``)."""
    if not info:
        return PhotoMeta()
    utf8 = info.get(_IPTC_UTF8) == b"\x1b%G"

    def values(key: tuple[int, int]) -> list[str]:
        v = info.get(key)
        found = v if isinstance(v, list) else [] if v is None else [v]
        return [_text(_iptc_text(x, utf8)) for x in found if isinstance(x, bytes)]

    title = next(iter(values(_IPTC_TITLE) + values(_IPTC_HEADLINE)), "")
    caption = next(iter(values(_IPTC_CAPTION)), "")
    return PhotoMeta(title=title[:MAX_TEXT], description=caption[:MAX_TEXT],
                     keywords=clean_keywords(values(_IPTC_KEYWORDS)))  # fmt: skip


def _merge(*metas: PhotoMeta) -> PhotoMeta:
    """The first known date, camera, title, description and position; every keyword."""
    pick = lambda name: next((getattr(m, name) for m in metas if getattr(m, name)), None)  # noqa: E731
    where = next((m for m in metas if m.latitude is not None), None)
    problem = "" if where else pick("gps_problem") or ""
    return PhotoMeta(taken=pick("taken") or 0.0, camera=pick("camera") or "",
                     title=pick("title") or "", description=pick("description") or "",
                     keywords=clean_keywords(k for m in metas for k in m.keywords),
                     latitude=where.latitude if where else None,
                     longitude=where.longitude if where else None,
                     gps_problem=problem)  # fmt: skip


def _degrees(value: object) -> float:
    """EXIF's (degrees, minutes, seconds) rationals, or one number -> degrees; NaN when it
    is not that (a zero denominator reads as NaN too)."""
    parts = value if isinstance(value, tuple) else (value,)
    if not 1 <= len(parts) <= 3:
        return math.nan
    try:
        numbers = [float(p) for p in parts]  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return math.nan
    if any(not math.isfinite(n) or n < 0 for n in numbers) or any(n >= 60 for n in numbers[1:]):
        return math.nan
    return sum(n / 60**i for i, n in enumerate(numbers))


def gps_position(
    lat: float, lat_ref: str, lon: float, lon_ref: str
) -> tuple[float | None, float | None, str]:
    """Unsigned degrees and their hemispheres -> (latitude, longitude, "") signed, or
    (None, None, why) for a position that cannot be one."""
    refs = (lat_ref.strip().upper()[:1], lon_ref.strip().upper()[:1])
    if refs[0] not in ("N", "S") or refs[1] not in ("E", "W"):
        return None, None, f"GPS without its hemisphere ({lat_ref!r}, {lon_ref!r})"
    if not (math.isfinite(lat) and math.isfinite(lon)) or lat > 90 or lon > 180:
        return None, None, f"GPS out of range or unreadable ({lat}, {lon})"
    if lat == 0 and lon == 0:
        return None, None, "GPS at 0, 0 (a receiver without a fix)"
    return (-lat if refs[0] == "S" else lat), (-lon if refs[1] == "W" else lon), ""


def _exif_gps(exif: Image.Exif) -> tuple[float | None, float | None, str]:
    try:
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:  # a GPS directory pointing past the file's end
        return None, None, "GPS unreadable"
    if _GPS_LAT not in gps and _GPS_LON not in gps:
        return None, None, ""
    if _text(gps.get(_GPS_STATUS)).upper() == "V":  # "void": the measurement was interrupted
        return None, None, "GPS marked void by the receiver"
    return gps_position(_degrees(gps.get(_GPS_LAT)), _text(gps.get(_GPS_LAT_REF)),
                        _degrees(gps.get(_GPS_LON)), _text(gps.get(_GPS_LON_REF)))  # fmt: skip


_NUMBER = r"(\d+(?:\.\d+)?)"
_XMP_COORD = re.compile(rf"\s*{_NUMBER}(?:,{_NUMBER})?(?:,{_NUMBER})?\s*([NSEW])\s*$")


def _xmp_coord(desc: ET.Element, name: str) -> tuple[float, str] | None:
    """An XMP ``exif:GPSLatitude`` or ``exif:GPSLongitude`` (an attribute or an element),
    "DDD,MM,SSk" or "DDD,MM.mmk" -> (unsigned degrees, k the hemisphere); None when absent,
    (NaN, text) when unreadable."""
    node = desc.find(f"{_XMP_EXIF}{name}")
    text = _text(desc.get(f"{_XMP_EXIF}{name}") or (node.text if node is not None else ""))
    if not text:
        return None
    m = _XMP_COORD.match(text)
    if m is None:
        return math.nan, text
    return _degrees(tuple(float(g) for g in m.groups()[:3] if g is not None)), m.group(4)


def _xmp_gps(desc: ET.Element) -> tuple[float | None, float | None, str]:
    lat, lon = _xmp_coord(desc, "GPSLatitude"), _xmp_coord(desc, "GPSLongitude")
    if lat is None and lon is None:
        return None, None, ""
    (lat_deg, lat_ref), (lon_deg, lon_ref) = lat or (math.nan, ""), lon or (math.nan, "")
    return gps_position(lat_deg, lat_ref, lon_deg, lon_ref)


def _exif(exif: Image.Exif) -> PhotoMeta:
    sub = exif.get_ifd(_EXIF_IFD)
    taken = _seconds(sub.get(_DATE_TIME_ORIGINAL)) or _seconds(exif.get(_DATE_TIME))
    make, model = _text(exif.get(_MAKE)), _text(exif.get(_MODEL))
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}"
    lat, lon, problem = _exif_gps(exif)
    return PhotoMeta(taken, camera.strip(), latitude=lat, longitude=lon, gps_problem=problem)


def _embedded_xmp(im: Image.Image) -> bytes | str | None:
    """The XMP packet where each Pillow plugin keeps it: ``info`` (JPEG, WebP, AVIF, HEIF),
    a PNG's iTXt chunk, a TIFF's tag 700."""
    found = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if not found and hasattr(im, "tag_v2"):
        found = im.tag_v2.get(_XMP_TAG)
    return found if isinstance(found, (bytes, str)) else None


def _from_image(im: Image.Image) -> PhotoMeta:
    xmp = _embedded_xmp(im)
    try:
        iptc = IptcImagePlugin.getiptcinfo(im) if isinstance(im, ImageFile.ImageFile) else None
    except Exception:  # a broken IPTC block loses only itself
        iptc = None
    return _merge(_exif(im.getexif()), parse_xmp(xmp) if xmp else PhotoMeta(), parse_iptc(iptc))


def _from_tiff(head: bytes) -> PhotoMeta:
    """A TIFF-based RAW that Pillow does not open (a DNG whose first directory is the
    sensor's mosaic): its first directory and EXIF read from the file's first bytes."""
    exif = Image.Exif()
    exif.load(head)
    xmp = exif.get(_XMP_TAG)
    return _merge(_exif(exif), parse_xmp(xmp) if isinstance(xmp, (bytes, str)) else PhotoMeta())


def is_sidecar(path: Path) -> bool:
    """An XMP file: what is said about a photo beside it, never an item of its own."""
    return path.suffix.lower() == ".xmp"


def sidecar_names(path: Path) -> tuple[str, ...]:
    """The names an XMP sidecar of ``path`` may have, the first found read: ``NAME.EXT.xmp``
    (darktable), ``NAME.xmp`` (Lightroom, Capture One)."""
    return (path.name + ".xmp", path.name + ".XMP", path.stem + ".xmp", path.stem + ".XMP")


class Sidecars:
    """Sidecars and the files they describe, from one listing of each folder (an ingest of a
    folder of 100k photos asks about every file: one ``listdir`` a folder, not 4 ``stat``s a
    file). Made for one ingest plan: a listing is not refreshed."""

    def __init__(self) -> None:
        self._names: dict[Path, frozenset[str]] = {}

    def _listing(self, folder: Path) -> frozenset[str]:
        if folder not in self._names:
            try:
                self._names[folder] = frozenset(os.listdir(folder))
            except OSError:
                self._names[folder] = frozenset()
        return self._names[folder]

    def of(self, path: Path) -> list[Path]:
        """The sidecars beside ``path`` that exist."""
        names = self._listing(path.parent)
        return [path.with_name(n) for n in dict.fromkeys(sidecar_names(path)) if n in names]

    def described(self, sidecar: Path) -> list[Path]:
        """The files ``sidecar`` describes (whether or not it still exists): ``NAME.EXT``
        for ``NAME.EXT.xmp``, and every ``NAME.*`` but sidecars for ``NAME.xmp``."""
        stem = sidecar.stem
        return [sidecar.with_name(n) for n in sorted(self._listing(sidecar.parent))
                if not is_sidecar(Path(n)) and (n == stem or Path(n).stem == stem)]  # fmt: skip


def _sidecar(path: Path) -> PhotoMeta:
    """An XMP sidecar beside the file (``sidecar_names``)."""
    for name in sidecar_names(path):
        side = path.with_name(name)
        try:
            if side != path and side.is_file():
                with side.open("rb") as f:
                    return parse_xmp(f.read(_XMP_MAX))
        except OSError:
            continue
    return PhotoMeta()


def photo_meta(path: str | Path) -> PhotoMeta:
    """The date taken, camera, title, description and keywords of a photo: JPEG, TIFF, PNG,
    WebP, AVIF, HEIF or camera RAW, and its XMP sidecar (which a title in the file yields to:
    a sidecar is where an editor writes what was changed)."""
    path = Path(path)
    heif_support()
    found = PhotoMeta()
    try:
        with Image.open(path) as im:
            found = _from_image(im)
    except Exception:  # any unreadable header means: nothing known from it
        try:
            head = read_head(path, _HEAD)
            if raw_format(head) is None:
                pass
            elif head[:4] in (b"II*\x00", b"MM\x00*"):
                found = _from_tiff(head)
            elif (preview := raw_preview(path)) is not None:  # RAF, ORF, RW2, CR3
                found = _from_image(preview)
        except Exception:
            pass
    return _merge(_sidecar(path), found)
