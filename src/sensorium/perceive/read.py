"""Text in images, read (OCR) for each file: one result per input, success or error."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sensorium.engine import Engine, default_engine
from sensorium.errors import MediaError
from sensorium.media.types import ImageMedia
from sensorium.perceive.inputs import decode_all, expand_paths
from sensorium.perceive.results import Reading

__all__ = ["iter_read", "read"]


def iter_read(
    inputs: Iterable[str | Path],
    on_done: Callable[[int], None] = lambda _: None,
    engine: Engine | None = None,
) -> Iterator[Reading]:
    engine = engine or default_engine()
    for path, item in decode_all(expand_paths(inputs), image_side=None):  # small text: full size
        if isinstance(item, MediaError):
            yield Reading(str(path), error=item.cause, error_kind=item.kind)
        elif not isinstance(item, ImageMedia):
            yield Reading(str(path), error=f"{item.kind.value} only, not an image: nothing to read",
                          error_kind="unusable")
        else:
            (text,) = engine.reader.read([item])
            yield Reading(str(path), text, error=text.error)
        on_done(1)


def read(inputs: Iterable[str | Path], engine: Engine | None = None) -> list[Reading]:
    """Read the text in image files (or folders, or globs); one result per file."""
    return list(iter_read(inputs, engine=engine))
