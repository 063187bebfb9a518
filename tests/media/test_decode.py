from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sensorium import media
from sensorium.errors import DecodeError, MediaTooLargeError, UnsupportedMediaError
from sensorium.media import MediaKind


def test_png_alpha_is_composited_on_white(stamp_png: Path) -> None:
    m = media.load(stamp_png)
    assert m.kind is MediaKind.IMAGE and m.image.mode == "RGB"
    assert m.image.getpixel((0, 0)) == (255, 255, 255)  # transparent corner -> white


def test_exif_orientation_is_applied(photos: dict[str, Path], tmp_path: Path) -> None:
    im = Image.open(photos["coffee"])  # 600 x 400
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "rotated.jpg"
    im.save(path, exif=exif)
    m = media.load_image(path)
    assert m.image.size == (400, 600)


def test_reduced_scale_jpeg_decoding(photos: dict[str, Path]) -> None:
    full = media.load_image(photos["astronaut"])
    small = media.load_image(photos["astronaut"], min_side=224)
    assert small.width == full.width == 512
    assert 224 <= min(small.image.size) < 512


def test_content_not_name_decides(photos: dict[str, Path], crow_ogg: Path, tmp_path: Path) -> None:
    misnamed = tmp_path / "photo.wav"
    misnamed.write_bytes(photos["coffee"].read_bytes())
    assert media.sniff(misnamed) is MediaKind.IMAGE
    sound = tmp_path / "sound.jpg"
    sound.write_bytes(crow_ogg.read_bytes())
    assert media.sniff(sound) is MediaKind.AUDIO


def test_audio_is_16k_mono(hello_wav: Path, crow_ogg: Path) -> None:
    for path in (hello_wav, crow_ogg):  # 8 kHz WAV and Ogg Vorbis
        a = media.load(path)
        assert a.kind is MediaKind.AUDIO and a.samples.dtype == np.float32 and a.samples.ndim == 1
    assert abs(media.load(hello_wav).duration - 1.40) < 0.05


def test_resample_round_trip(crow_ogg: Path) -> None:
    from sensorium.media.audio import resample

    crow = media.load_audio(crow_ogg).samples  # real audio, 16 kHz
    up = resample(crow, 48_000)
    assert abs(len(up) - 3 * len(crow)) <= 3
    back = resample(up, 16_000, from_rate=48_000)[: len(crow)]
    assert np.corrcoef(back, crow[: len(back)])[0, 1] > 0.99  # in time: no shift, no loss


def test_text(tmp_path: Path) -> None:
    p = tmp_path / "note"
    p.write_text("a dog barking loudly\n", encoding="utf-8")
    assert media.load(p).text == "a dog barking loudly"


@pytest.mark.parametrize(
    ("content", "error", "cause"),
    [
        (b"", DecodeError, "empty"),
        (
            b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 4,
            DecodeError,
            "cannot decode",
        ),
        (b"OggS\x00\x02" + b"\x00" * 200, DecodeError, ""),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"\x00\x01" * 100, UnsupportedMediaError, ""),
        (bytes(range(256)) * 8, UnsupportedMediaError, "not an image"),
    ],
    ids=["empty", "corrupt-jpeg", "corrupt-ogg", "pdf", "binary"],
)
def test_bad_files_raise_one_clear_error(
    tmp_path: Path, content: bytes, error: type, cause: str
) -> None:
    p = tmp_path / "bad.jpg"
    p.write_bytes(content)
    with pytest.raises(error, match=cause) as info:
        media.load(p)
    assert str(info.value).startswith(str(p) + ": ")
    assert "\n" not in str(info.value)


def test_truncated_png(stamp_png: Path, tmp_path: Path) -> None:
    p = tmp_path / "cut.png"
    p.write_bytes(stamp_png.read_bytes()[:3000])
    with pytest.raises(DecodeError, match="truncated"):
        media.load(p)


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "bomb.png"
    Image.new("1", (12_000, 12_000)).save(p)  # 144 MP in a few kB
    assert p.stat().st_size < 100_000
    with pytest.raises(MediaTooLargeError, match="pixels"):
        media.load(p)


def test_zip_is_unsupported(tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("a.txt", "hello")
    with pytest.raises(UnsupportedMediaError, match="zip"):
        media.load(p)
