"""Expand user inputs (files, folders, globs) and decode them, one error record per bad file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from sensorium import media
from sensorium.encoders.image import SIZE
from sensorium.errors import MediaError, MissingFileError
from sensorium.media.types import Media, MediaKind
from sensorium.unchanged import expand_paths  # here too: the no-op ingest lists files with it

__all__ = ["decode_all", "expand_paths", "is_video"]


def is_video(path: Path) -> bool:
    """True for a video file (by its bytes); a bad file is left for ``decode_all`` to report."""
    try:
        return media.sniff(path) is MediaKind.VIDEO
    except MediaError:
        return False


def decode_all(
    paths: Iterable[Path], image_side: int | None = SIZE
) -> Iterator[tuple[Path, Media | MediaError]]:
    """Decode each path; a bad file yields its MediaError instead of stopping the batch.
    ``image_side``: JPEGs may be decoded at a reduced scale down to this side (None: full
    size, for reading text)."""
    for path in paths:
        try:
            if not path.exists() and not path.is_symlink():  # a link loop says so on load
                raise MissingFileError(path, "no such file")
            yield path, media.load(path, image_side=image_side)
        except MediaError as e:
            yield path, e
