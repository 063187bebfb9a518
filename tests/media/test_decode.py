from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path
from typing import Any

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


# -- hostile files: special files, links, text that begins like a binary signature -----------


def test_special_files_are_refused_without_opening_them(tmp_path: Path, bounded: Any) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    zero = tmp_path / "zeros.png"
    zero.symlink_to("/dev/zero")
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    with bounded(10):
        for path, cause in ((fifo, "a named pipe"), (zero, "a character device")):
            with pytest.raises(UnsupportedMediaError, match=cause) as info:
                media.load(path)
            assert str(info.value) == f"{path}: {cause}, not a regular file: skipped"
        with pytest.raises(DecodeError, match="loop of symbolic links"):
            media.load(loop)


@pytest.mark.parametrize(
    "content",
    [
        "BMW drove past at 9.",
        "GIF is pronounced with a hard g.",
        "SQLite notes: use WAL.",
        "BM25 ranks documents by term frequency.",
    ],
)
def test_text_that_begins_like_a_signature_is_text(tmp_path: Path, content: str) -> None:
    p = tmp_path / "note"
    p.write_text(content)
    m = media.load(p)
    assert isinstance(m, media.TextMedia) and m.text == content


def test_real_signatures_still_win(tmp_path: Path, stamp_png: Path) -> None:
    for fmt in ("GIF", "BMP"):
        p = tmp_path / f"stamp.{fmt.lower()}"
        Image.open(stamp_png).convert("RGB").save(p, fmt)
        assert media.sniff(p) is MediaKind.IMAGE


def test_latin1_and_utf16_text(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Crème brûlée à la française".encode("latin-1"))
    utf16 = tmp_path / "utf16.txt"
    utf16.write_text("Grüße aus Köln", encoding="utf-16")
    assert media.load(latin).text == "Crème brûlée à la française"  # type: ignore[union-attr]
    assert media.load(utf16).text == "Grüße aus Köln"  # type: ignore[union-attr]


def test_a_big_png_is_shrunk_before_any_full_size_copy(tmp_path: Path, stamp_png: Path) -> None:
    """Decoded for a 224-pixel encoder, a 3000-pixel cut-out comes out about 448 px a side,
    composited on white and oriented; the recorded size stays the original."""
    p = tmp_path / "big.png"
    Image.open(stamp_png).convert("RGBA").resize((3000, 2400)).save(p)
    m = media.load_image(p, min_side=224)
    assert (m.width, m.height) == (3000, 2400)
    assert 448 <= min(m.image.size) < 900 and m.image.mode == "RGB"
    assert m.image.getpixel((0, 0)) == (255, 255, 255)


def _float_wav(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    """A 32-bit float mono WAV of ``samples``, written by hand (a broken tool may hold NaN)."""
    data = samples.astype("<f4").tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16,
                         3, 1, rate, 4 * rate, 4, 32, b"data", len(data))  # fmt: skip
    path.write_bytes(header + data)
    return path


def test_the_decoder_repairs_nan_and_inf(tmp_path: Path) -> None:
    from sensorium.media.audio import audio_blocks, load_audio

    x = np.sin(np.arange(16000) / 10).astype(np.float32)  # (T,) 2 s at 8 kHz
    x[[100, 5000, 9000]] = [np.nan, np.inf, -np.inf]
    path = _float_wav(tmp_path / "nan.wav", x)
    blocks = list(audio_blocks(path, seconds=0.5))  # streamed, as a video's track is
    assert len(blocks) > 1 and all(np.isfinite(b).all() for b in blocks)
    samples = load_audio(path).samples  # one array of the container's length
    assert np.array_equal(samples, np.concatenate(blocks))
    assert abs(len(samples) - 32000) < 200  # 2 s at 16 kHz


@pytest.mark.parametrize("stated", [0.0, 0.3, 1.0, 3.0])  # of the true length; 0: not said
def test_load_audio_whatever_the_header_says(
    crow_ogg: Path, monkeypatch: pytest.MonkeyPatch, stated: float
) -> None:
    """The array ``load_audio`` sizes by the container's length holds the same samples when
    the length is missing, short or long (a lying header), and the file is opened once."""
    import av

    from sensorium.media import audio

    blocks = np.concatenate(list(audio.audio_blocks(crow_ogg)))
    header: list[int] = []  # what the crow's header says, read as load_audio reads it
    opened: list[str] = []

    def length(*args: Any) -> int:
        header.append(true_length(*args))
        return round(stated * len(blocks))

    def open_(file: str, *args: Any, **kwargs: Any) -> Any:
        opened.append(file)
        return real_open(file, *args, **kwargs)

    true_length, real_open = audio._length, av.open
    monkeypatch.setattr(audio, "_length", length)
    monkeypatch.setattr(av, "open", open_)
    monkeypatch.setattr(audio, "_JOIN_SECONDS", 0.25)  # 8 blocks: some fit, then the rest
    samples = audio.load_audio(crow_ogg).samples
    assert samples.dtype == np.float32 and np.array_equal(samples, blocks)
    assert opened == [str(crow_ogg)]
    assert len(header) == 1 and abs(header[0] - len(blocks)) < 1600  # within 0.1 s
    if stated == 3.0:  # a copy, not a view of an array three times too long
        assert samples.base is None
