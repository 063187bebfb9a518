"""What files already say: XMP (dc:subject, dc:title, dc:description) embedded in each format
where its library writes it, IPTC keywords and captions, XMP sidecars; broken or hostile
metadata is ignored, never raised."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from tests.media.cameras import compass, iptc_block, jpeg_with_app13, write_dng, xmp

from sensorium.media.metadata import PhotoMeta, parse_iptc, parse_xmp, photo_meta

PACKET = xmp("Harbour at dawn", "Fishing boats, Brittany", ["boats", "Brittany", "dawn"])
EXPECTED = PhotoMeta(title="Harbour at dawn", description="Fishing boats, Brittany",
                     keywords=("boats", "Brittany", "dawn"))  # fmt: skip


def _meta(path: Path) -> PhotoMeta:
    m = photo_meta(path)
    return PhotoMeta(title=m.title, description=m.description, keywords=m.keywords)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "AVIF", "HEIF", "PNG", "TIFF"])
def test_embedded_xmp(tmp_path: Path, fmt: str) -> None:
    im = Image.fromarray(compass())
    path = tmp_path / f"photo.{fmt.lower()}"
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", PACKET.decode())
        im.save(path, pnginfo=info)
    elif fmt == "TIFF":
        im.save(path, tiffinfo={700: PACKET})
    else:
        im.save(path, fmt, xmp=PACKET)
    assert _meta(path) == EXPECTED


def test_dng_xmp_and_exif(tmp_path: Path) -> None:
    import tifffile

    path = write_dng(tmp_path / "raw.dng", compass(), 1)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].tags[50706].value == b"\x01\x04\x00\x00"  # a DNG, as tifffile wrote it
    # the same DNG with an XMP packet in its first directory, as converters write it
    rgb = compass()
    with tifffile.TiffWriter(tmp_path / "tagged.dng") as tw:
        tw.write(np.zeros((8, 8), np.uint16), photometric=32803, metadata=None,
                 extratags=[(50706, "B", 4, (1, 4, 0, 0), True), (271, "s", 0, "Leica", True),
                            (272, "s", 0, "M11", True), (700, "B", len(PACKET), PACKET, True),
                            (306, "s", 0, "2023:04:01 10:20:30", True)])  # fmt: skip
    meta = photo_meta(tmp_path / "tagged.dng")
    assert meta.camera == "Leica M11" and meta.taken == 1680344430.0
    assert meta.keywords == EXPECTED.keywords and meta.title == EXPECTED.title
    assert photo_meta(path).camera == "Sensorium Test Camera" and rgb.shape == (240, 360, 3)


def test_iptc_keywords_and_caption(tmp_path: Path) -> None:
    block = iptc_block([(1, 90, b"\x1b%G"), (2, 5, "Café".encode()), (2, 25, b"market"),
                        (2, 25, "Zürich".encode()), (2, 25, b"Market"),
                        (2, 120, b"Saturday morning stalls")])  # fmt: skip
    path = jpeg_with_app13(tmp_path / "iptc.jpg", block)
    assert _meta(path) == PhotoMeta(title="Café", description="Saturday morning stalls",
                                    keywords=("market", "Zürich"))  # fmt: skip
    tiff = tmp_path / "iptc.tif"
    Image.fromarray(compass()).save(tiff, tiffinfo={33723: block[12:]})  # the IIM alone
    assert _meta(tiff).keywords == ("market", "Zürich")


def test_xmp_and_iptc_together_and_a_sidecar(tmp_path: Path) -> None:
    """Keywords from every source, each once; a sidecar's title wins (it holds the edits)."""
    path = jpeg_with_app13(tmp_path / "IMG_1.jpg", iptc_block([(2, 25, b"harbour")]), PACKET)
    assert photo_meta(path).keywords == ("boats", "Brittany", "dawn", "harbour")
    (tmp_path / "IMG_1.jpg.xmp").write_bytes(xmp("Edited title", "", ["sailing", "boats"]))
    meta = photo_meta(path)
    assert meta.title == "Edited title" and meta.description == EXPECTED.description
    assert meta.keywords == ("sailing", "boats", "Brittany", "dawn", "harbour")
    raw = write_dng(tmp_path / "DSC_2.dng", compass(), 1)
    (tmp_path / "DSC_2.xmp").write_bytes(PACKET)  # Lightroom's name for it
    assert photo_meta(raw).keywords == EXPECTED.keywords


def test_hostile_and_broken_metadata_is_ignored() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>')  # fmt: skip
    assert parse_xmp(bomb) == PhotoMeta()
    assert parse_xmp(PACKET[:200]) == PhotoMeta()  # cut short
    assert parse_xmp(b"\x00\xff not xml") == PhotoMeta()
    assert parse_iptc({(2, 25): [b"\xe9t\xe9"]}).keywords == ("été",)  # Latin-1, undeclared
    assert parse_iptc(None) == PhotoMeta()
