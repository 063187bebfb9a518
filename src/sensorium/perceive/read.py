"""Text in images, read (OCR) for each file: one result per input, success or error."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sensorium import media
from sensorium.engine import Engine, default_engine
from sensorium.errors import MediaError
from sensorium.media.types import ImageMedia, Media, MediaKind
from sensorium.perceive.inputs import decode_all, expand_paths
from sensorium.perceive.results import Reading

__all__ = ["iter_read", "read"]

REFUSED = {  # kinds with nothing to read, refused before they are decoded (an hour of sound)
    MediaKind.VIDEO: "a video: read reads still images; ask about the video instead "
    "('what does the sign say?')",
    MediaKind.AUDIO: "audio only, not an image: nothing to read",
    MediaKind.TEXT: "text only, not an image: nothing to read",
}


def iter_read(
    inputs: Iterable[str | Path],
    on_done: Callable[[int], None] = lambda _: None,
    engine: Engine | None = None,
) -> Iterator[Reading]:
    engine = engine or default_engine()
    for path in expand_paths(inputs):
        try:
            refused = REFUSED.get(media.sniff(path))
        except MediaError:
            refused = None  # decoding says what is wrong with it, as for any file
        if refused:
            yield Reading(str(path), error=refused, error_kind="unusable")
        else:
            ((_, item),) = decode_all([path], image_side=None)  # small text: full size
            yield _read(engine, path, item)
        on_done(1)


def _read(engine: Engine, path: Path, item: Media | MediaError) -> Reading:
    if isinstance(item, MediaError):
        return Reading(str(path), error=item.cause, error_kind=item.kind)
    if not isinstance(item, ImageMedia):  # sniffed as an image, decoded as something else
        return Reading(str(path), error=REFUSED[item.kind], error_kind="unusable")
    (text,) = engine.reader.read([item])
    return Reading(str(path), text, error=text.error)


def read(inputs: Iterable[str | Path], engine: Engine | None = None) -> list[Reading]:
    """Read the text in image files (or folders, or globs); one result per file."""
    return list(iter_read(inputs, engine=engine))
