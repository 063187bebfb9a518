"""Text in images, read (OCR) for each file: one result per input, success or error."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sensorium.engine import Engine, default_engine
from sensorium.errors import MediaError
from sensorium.media.types import ImageMedia, Media
from sensorium.perceive.inputs import decode_all, expand_paths, is_video
from sensorium.perceive.results import Reading

__all__ = ["iter_read", "read"]

VIDEO = "a video: read reads images; ask it instead: sensorium ask VIDEO 'what does the sign say?'"


def iter_read(
    inputs: Iterable[str | Path],
    on_done: Callable[[int], None] = lambda _: None,
    engine: Engine | None = None,
) -> Iterator[Reading]:
    engine = engine or default_engine()
    for path in expand_paths(inputs):
        if is_video(path):  # refused before its sound track is decoded for nothing
            yield Reading(str(path), error=VIDEO, error_kind="unusable")
        else:
            ((_, item),) = decode_all([path], image_side=None)  # small text: full size
            yield _read(engine, path, item)
        on_done(1)


def _read(engine: Engine, path: Path, item: Media | MediaError) -> Reading:
    if isinstance(item, MediaError):
        return Reading(str(path), error=item.cause, error_kind=item.kind)
    if not isinstance(item, ImageMedia):
        why = f"{item.kind.value} only, not an image: nothing to read"
        return Reading(str(path), error=why, error_kind="unusable")
    (text,) = engine.reader.read([item])
    return Reading(str(path), text, error=text.error)


def read(inputs: Iterable[str | Path], engine: Engine | None = None) -> list[Reading]:
    """Read the text in image files (or folders, or globs); one result per file."""
    return list(iter_read(inputs, engine=engine))
