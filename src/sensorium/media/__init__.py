"""Decode and validate media: files -> typed media objects, with clear errors.

``load(path)`` recognises the content by its bytes and dispatches through ``LOADERS``.
A video file is read through its audio track here (the video layer reads its frames).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sensorium.errors import DecodeError
from sensorium.media.audio import load_audio
from sensorium.media.image import load_image
from sensorium.media.names import fs_path, path_text
from sensorium.media.sniff import check_regular, sniff
from sensorium.media.text import load_text
from sensorium.media.types import SAMPLE_RATE, AudioMedia, ImageMedia, Media, MediaKind, TextMedia

__all__ = [
    "LOADERS",
    "SAMPLE_RATE",
    "AudioMedia",
    "ImageMedia",
    "Media",
    "MediaKind",
    "TextMedia",
    "check_regular",
    "decode",
    "fs_path",
    "load",
    "load_audio",
    "load_image",
    "load_text",
    "path_text",
    "sniff",
]

LOADERS: dict[MediaKind, Callable[[Path], Media]] = {
    MediaKind.IMAGE: load_image,
    MediaKind.AUDIO: load_audio,
    MediaKind.VIDEO: load_audio,  # its sound and speech; frames belong to sensorium.video
    MediaKind.TEXT: load_text,
}


def load(path: str | Path, image_side: int | None = None) -> Media:
    """Decode one file of any supported kind. Raises a ``MediaError`` naming the file.

    ``image_side``: images will be resized to about this size, so JPEGs may be decoded at a
    reduced scale (several times cheaper); the recorded width and height stay the original.
    """
    path = Path(path)
    if path.is_dir():
        raise DecodeError(path, "is a directory")
    return decode(path, sniff(path), image_side)


def decode(path: Path, kind: MediaKind, image_side: int | None = None) -> Media:
    """Decode a file whose kind is already known (see ``load``)."""
    if kind is MediaKind.IMAGE and image_side:
        return load_image(path, min_side=image_side)
    return LOADERS[kind](path)  # audio arrives finite: the decoder repairs NaN and infinities
