"""EXIF date taken and camera, read from a real photo written with EXIF; none from others."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from sensorium.media.metadata import PhotoMeta, photo_meta


def test_exif_date_and_camera(tmp_path: Path, photos: dict[str, Path]) -> None:
    im = Image.open(photos["chelsea"])
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 5D"
    exif.get_ifd(0x8769)[0x9003] = "2021:06:05 14:30:00"
    im.save(tmp_path / "cat.jpg", exif=exif)
    meta = photo_meta(tmp_path / "cat.jpg")
    assert meta == PhotoMeta(1622903400.0, "Canon EOS 5D")
    assert photo_meta(photos["coffee"]) == PhotoMeta()  # no EXIF
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe1garbage")
    assert photo_meta(tmp_path / "bad.jpg") == PhotoMeta()
