"""Small pictures for the result grid: an image shrunk, a video moment's frame, a sound's
waveform, a text file's first lines. JPEG or PNG bytes, cached per item and file version."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from sensorium import media
from sensorium.errors import DecodeError, NotFoundError
from sensorium.media.names import fs_path
from sensorium.media.types import AudioMedia, MediaKind, TextMedia
from sensorium.store.records import Item

__all__ = ["thumbnail"]

SIDE = 360  # pixels: the longer side of a thumbnail (a grid cell is at most ~300 CSS px)
WAVE = (SIDE, 160)
INK = (79, 70, 229)  # the page's accent colour
PAPER = (245, 246, 250)


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=82, optimize=True)
    return buf.getvalue()


def _image(path: Path) -> bytes:
    """Decoded as for encoding (``media.load_image``: every format, EXIF orientation, alpha
    on white), at a reduced scale where the format allows (JPEG, HEIF, a RAW's preview)."""
    im = media.load_image(path, min_side=SIDE).image
    im.thumbnail((SIDE, SIDE))
    return _jpeg(im)


def _video(path: Path, at: float) -> bytes:
    """The first frame at or after ``at`` seconds."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if at > 0 and stream.time_base:
                container.seek(int(at / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is None or frame.time >= at - 0.05:
                    im = frame.to_image()
                    rotation = round(frame.rotation or 0)
                    if rotation % 360:
                        im = im.rotate(rotation, expand=True)
                    im.thumbnail((SIDE, SIDE))
                    return _jpeg(im)
    except (av.error.FFmpegError, IndexError, ValueError) as e:
        raise DecodeError(path, f"cannot draw a thumbnail: {e}") from e
    raise DecodeError(path, "no frame at this moment")


def _waveform(samples: np.ndarray) -> bytes:
    """(T,) mono samples -> the envelope as bars, one per 3 pixels."""
    w, h = WAVE
    image = Image.new("RGB", WAVE, PAPER)
    draw = ImageDraw.Draw(image)
    bars = w // 3
    if samples.size:
        chunks = np.array_split(np.abs(samples), bars)
        peaks = np.array([c.max() if c.size else 0.0 for c in chunks])  # (bars,)
        peaks = peaks / max(float(peaks.max()), 1e-6)
        for i, p in enumerate(peaks):
            half = max(1.0, p * (h * 0.42))
            x = i * 3 + 1
            draw.rounded_rectangle((x, h / 2 - half, x + 1, h / 2 + half), 1, fill=INK)
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _text(text: str) -> bytes:
    image = Image.new("RGB", WAVE, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    lines = [ln.strip()[:48] for ln in text.splitlines() if ln.strip()][:8]
    for i, line in enumerate(lines):
        draw.text((12, 10 + i * 17), line, fill=(55, 65, 81))
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


@lru_cache(maxsize=512)
def _cached(path: str, kind: str, at: float, mtime: float) -> tuple[bytes, str]:
    p = Path(path)
    if kind == MediaKind.IMAGE:
        return _image(p), "image/jpeg"
    if kind == MediaKind.VIDEO:
        return _video(p, at), "image/jpeg"
    m = media.load(p)
    if isinstance(m, AudioMedia):
        return _waveform(m.samples), "image/png"
    if isinstance(m, TextMedia):
        return _text(m.text), "image/png"
    raise DecodeError(p, "no thumbnail for this kind of file")


def thumbnail(item: Item) -> tuple[bytes, str]:
    """(bytes, media type) for an item; a video moment shows a frame from its first second.
    Raises ``NotFoundError`` when the file is gone, ``MediaError`` when it cannot be read."""
    path = fs_path(item.path)  # a name that is not UTF-8 is stored escaped
    try:
        mtime = path.stat().st_mtime
    except OSError as e:
        raise NotFoundError(f"{path.name}: the file is gone") from e
    at = (
        item.start + min(0.5, max(0.0, item.end - item.start) / 2)
        if item.kind == MediaKind.VIDEO
        else 0
    )
    return _cached(str(path), item.kind, round(at, 2), mtime)
