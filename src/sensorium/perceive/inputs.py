"""Expand user inputs (files, folders, globs) and decode them, one error record per bad file."""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator
from pathlib import Path

from sensorium import media
from sensorium.encoders.image import SIZE
from sensorium.errors import MediaError, MissingFileError, UsageError
from sensorium.media.types import Media, MediaKind

__all__ = ["decode_all", "expand_paths", "is_video"]


def expand_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders recursively (hidden files skipped); glob patterns expanded.

    Whatever is not a folder is kept, named pipes and devices too: decoding refuses each with
    its own line, which a silent skip would not give. Links to folders are not followed.
    """
    out: list[Path] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            out.extend(
                p for p in sorted(path.rglob("*")) if not p.is_dir() and not p.name.startswith(".")
            )
        elif not path.exists() and glob.has_magic(str(raw)):
            matches = sorted(Path(p) for p in glob.glob(str(raw), recursive=True))
            if not matches:
                raise UsageError(f"no file matches {raw}")
            out.extend(p for p in matches if not p.is_dir())
        else:
            out.append(path)  # a missing file becomes a per-file error when decoded
    return out


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
