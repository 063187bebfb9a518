"""Every camera format, each written by its own library (tests/media/cameras.py): recognised
by its bytes, decoded upright (EXIF orientation, HEIF's rotation, a RAW's flip) for encoding
and for thumbnails, bounded in size, and one clear line when it is broken."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.media.cameras import FORMATS, compass, write, write_dng

from sensorium import media
from sensorium.errors import DecodeError, MediaError, MediaTooLargeError
from sensorium.media import image as image_module
from sensorium.media.raw import raw_format
from sensorium.media.sniff import image_format
from sensorium.media.types import ImageMedia, MediaKind
from sensorium.store.records import Item

# EXIF orientation -> how the stored pixels relate to the upright picture (np.rot90 turns
# counter-clockwise): 6 is shown turned 90 degrees clockwise, so it is stored turned back.
STORED = {1: lambda a: a, 3: lambda a: np.rot90(a, 2), 6: lambda a: np.rot90(a, 1),
          8: lambda a: np.rot90(a, -1)}  # fmt: skip


def upright(im: Image.Image) -> bool:
    """Whether ``im`` shows the compass upright: white along the top, red left, blue right."""
    a = np.asarray(im.convert("RGB").resize((60, 60)), np.float32)  # (60, 60, 3)
    top, left, right = a[:6].mean((0, 1)), a[20:, :25].mean((0, 1)), a[20:, 35:].mean((0, 1))
    return bool(top.min() > 170 and left[0] > left[2] + 60 and right[2] > right[0] + 60)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_upright_for_encoding(tmp_path: Path, fmt: str, orientation: int) -> None:
    path = write(fmt, tmp_path, "photo", STORED[orientation](compass()), orientation)
    assert media.sniff(path) is MediaKind.IMAGE
    for side in (None, 32):  # full size (text is read) and reduced (the encoder's)
        m = media.load(path, image_side=side)
        assert isinstance(m, ImageMedia) and m.image.mode == "RGB"
        assert upright(m.image), (fmt, orientation, side)
        assert max(m.width, m.height) == 360  # the original's size, whatever was decoded


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_upright_in_thumbnails(tmp_path: Path, fmt: str) -> None:
    from sensorium.service.thumbs import thumbnail

    path = write(fmt, tmp_path, "photo", STORED[6](compass()), 6)
    item = Item(id="x", path=str(path), sha256="", size=0, mtime=0, kind="image",
                vector=np.zeros(384, np.float32))  # fmt: skip
    data, mime = thumbnail(item)
    thumb = Image.open(io.BytesIO(data))
    assert mime == "image/jpeg" and thumb.width > thumb.height and upright(thumb)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_recognised_by_content_not_name(tmp_path: Path, fmt: str) -> None:
    path = write(fmt, tmp_path, "photo", compass(), 1)
    disguised = path.rename(tmp_path / "photo.txt")
    assert media.sniff(disguised) is MediaKind.IMAGE
    assert upright(media.load(disguised).image)  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("keep", [0.6, 0.2])
def test_truncated_is_one_clear_line(tmp_path: Path, fmt: str, keep: float) -> None:
    rgb = (np.random.default_rng(0).random((240, 360, 3)) * 255).astype(np.uint8)  # no preview
    data = write(fmt, tmp_path, "full", rgb, 1).read_bytes()
    cut = tmp_path / f"cut{FORMATS[fmt][0]}"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(MediaError) as err:
        media.load(cut)
    assert isinstance(err.value, DecodeError)
    line = str(err.value)
    assert line.startswith(f"{cut}: ") and "\n" not in line and "Traceback" not in line


# The first bytes of RAW files this machine cannot write (no writer installs from a
# registry): each is recognised, and a file that is only a header is a clear error.
_TIFF_NIKON = (b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 2)
               + struct.pack("<HHII", 271, 2, 6, 38) + struct.pack("<HHII", 330, 4, 1, 0)
               + b"\x00\x00\x00\x00" + b"NIKON\x00")  # fmt: skip
HEADERS = {
    "RAF": b"FUJIFILMCCD-RAW 0201FF383501",
    "ORF": b"IIRO\x08\x00\x00\x00",
    "RW2": b"IIU\x00\x18\x00\x00\x00",
    "CR2": b"II*\x00\x10\x00\x00\x00CR\x02\x00",
    "CR3": b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom",
    "NEF": _TIFF_NIKON,
}


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_raw_headers_recognised_and_refused_cleanly(tmp_path: Path, name: str) -> None:
    head = HEADERS[name] + bytes(200)
    assert raw_format(head) == name and image_format(head) == name
    path = tmp_path / "camera.bin"
    path.write_bytes(head)
    assert media.sniff(path) is MediaKind.IMAGE
    with pytest.raises(DecodeError, match=r"camera RAW") as err:
        media.load(path)
    assert "\n" not in str(err.value)


def test_a_plain_tiff_from_a_camera_maker_is_not_raw(tmp_path: Path) -> None:
    """A scanner's TIFF may name Nikon: without a RAW's structure it is decoded as a TIFF."""
    path = tmp_path / "scan.tif"
    Image.fromarray(compass()).save(path, tiffinfo={271: "NIKON", 272: "COOLSCAN"})
    assert raw_format(path.read_bytes()[:8192]) is None
    assert upright(media.load(path).image)  # type: ignore[union-attr]


def test_dng_preview_used_when_large_enough(tmp_path: Path) -> None:
    """The embedded preview (painted green here, to tell it apart) serves a reduced decode;
    text reading (full size) wants more than it holds, and demosaics the sensor data at half
    size (each 2 x 2 block of photosites one pixel); both upright."""
    green = np.zeros((80, 120, 3), np.uint8)
    green[:, :, 1] = 200
    green[:14] = 255
    path = write_dng(tmp_path / "p.dng", STORED[6](compass()), 6, preview=STORED[6](green))
    small = media.load(path, image_side=40).image  # type: ignore[union-attr]
    g = np.asarray(small, np.float32)
    assert small.width > small.height and g[20:, :, 1].mean() > 150 and g[20:, :, 0].mean() < 40
    full = media.load(path).image  # type: ignore[union-attr]
    assert upright(full) and full.size == (180, 120)  # half the 360 x 240 sensor


def test_heic_thumbnail_serves_a_reduced_decode(tmp_path: Path) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    path = tmp_path / "big.heic"
    Image.fromarray(compass()).resize((1600, 1200)).save(path, "HEIF", thumbnails=[400])
    m = media.load(path, image_side=100)
    assert isinstance(m, ImageMedia) and (m.width, m.height) == (1600, 1200)
    assert max(m.image.size) == 400 and upright(m.image)


@pytest.mark.parametrize("fmt", ["heic", "dng", "avif"])
def test_pixel_bound(tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(fmt, tmp_path, "photo", compass(), 1)
    monkeypatch.setattr(image_module, "MAX_PIXELS", 10_000)
    with pytest.raises(MediaTooLargeError, match="over the bound of 10,000 pixels"):
        media.load(path)
