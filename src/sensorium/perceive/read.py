"""Text in images, read (OCR) for each file: one result per input, success or error."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path

from sensorium.encoders.ocr import TextReader
from sensorium.errors import MediaError
from sensorium.media.types import ImageMedia
from sensorium.perceive.inputs import decode_all, expand_paths
from sensorium.perceive.results import Reading

__all__ = ["iter_read", "read"]


@cache
def reader() -> TextReader:
    """One reader per process: the three ONNX graphs load once."""
    return TextReader()


def iter_read(
    inputs: Iterable[str | Path], on_done: Callable[[int], None] = lambda _: None
) -> Iterator[Reading]:
    for path, item in decode_all(expand_paths(inputs), image_side=None):  # small text: full size
        if isinstance(item, MediaError):
            yield Reading(str(path), error=item.cause)
        elif not isinstance(item, ImageMedia):
            yield Reading(str(path), error=f"a {item.kind} file, not an image: nothing to read")
        else:
            (text,) = reader().read([item])
            yield Reading(str(path), text, error=text.error)
        on_done(1)


def read(inputs: Iterable[str | Path]) -> list[Reading]:
    """Read the text in image files (or folders, or globs); one result per file."""
    return list(iter_read(inputs))
