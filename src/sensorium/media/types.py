"""Typed media objects: what decoding produces and encoders consume."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from PIL import Image

__all__ = [
    "SAMPLE_RATE",
    "AudioMedia",
    "ImageMedia",
    "Media",
    "MediaKind",
    "TextMedia",
    "av_cause",
]

SAMPLE_RATE = 16_000  # every audio encoder here works at 16 kHz mono


class MediaKind(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    TEXT = "text"


@dataclass(frozen=True)
class ImageMedia:
    path: str
    image: Image.Image  # RGB, EXIF orientation applied, alpha composited on white
    width: int  # size of the original image, before any reduced-scale decoding
    height: int
    kind: MediaKind = MediaKind.IMAGE


@dataclass(frozen=True)
class AudioMedia:
    path: str
    samples: np.ndarray  # (T,) float32 in [-1, 1], mono, SAMPLE_RATE
    kind: MediaKind = MediaKind.AUDIO

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


@dataclass(frozen=True)
class TextMedia:
    path: str
    text: str
    kind: MediaKind = MediaKind.TEXT


Media = ImageMedia | AudioMedia | TextMedia


def av_cause(e: Exception) -> str:
    """FFmpeg's own words for an error, without the path PyAV appends to its message."""
    return str(getattr(e, "strerror", None) or e).rstrip(".").lower()
