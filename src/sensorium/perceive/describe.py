"""Files -> words: what an image shows (the classifier's labels, the text read in it, a
caption where a hub captioner is set) and what a clip sounds like (event labels, what is
said). The modality-to-text side of the shared space, one result per input."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sensorium.encoders.caption import Captioner
from sensorium.encoders.image import SIZE
from sensorium.engine import Engine, default_engine
from sensorium.errors import MediaError
from sensorium.media.types import AudioMedia, ImageMedia, Media
from sensorium.perceive.inputs import decode_all, expand_paths, is_video
from sensorium.perceive.results import Description
from sensorium.space import SharedSpace

__all__ = ["describe", "iter_describe"]

CHUNK = 32  # files decoded and described together
LABELS = 3  # labels given per file


def _describe_chunk(
    space: SharedSpace,
    items: list[Media],
    read: bool,
    captioner: Captioner | None,
    faces: bool = False,
) -> list[Description]:
    embedded = space.embed(items)
    images = [i for i, m in enumerate(items) if isinstance(m, ImageMedia)]
    written: dict[int, str] = {i: e.written for i, e in enumerate(embedded) if e.written}
    warnings = {i: list(e.warnings) for i, e in enumerate(embedded)}
    if read and not space.options.ocr and images:  # the space did not read them already
        readings = space.reader.read([items[i] for i in images])  # type: ignore[misc]
        written.update({i: r.text for i, r in zip(images, readings) if r.text})
        for i, r in zip(images, readings):
            warnings[i] += [r.error] if r.error else []
    found = {i: e.faces for i, e in enumerate(embedded) if e.faces is not None}
    if faces and not space.options.faces and images:  # the space did not look for them
        seen = space.face_reader.read([items[i] for i in images])  # type: ignore[misc]
        found.update(zip(images, seen))
        for i, f in zip(images, seen):
            warnings[i] += [f.error] if f.error else []
    captions: dict[int, str] = {}
    if captioner is not None and images:
        captions = dict(zip(images, captioner.describe([items[i] for i in images])))  # type: ignore[misc]
    return [
        Description(e.path, e.kind.value, e.labels[:LABELS], captions.get(i), written.get(i),
                    e.transcript.text or None if e.transcript else None, warnings=warnings[i],
                    faces=found.get(i))
        for i, e in enumerate(embedded)
    ]  # fmt: skip


def iter_describe(
    inputs: Iterable[str | Path],
    read: bool | None = None,
    caption_model: str | None = None,
    engine: Engine | None = None,
    on_done: Callable[[int], None] = lambda _: None,
    faces: bool = False,
) -> Iterator[Description]:
    """Stream descriptions in input order. ``read``: read the text in images (default: the
    engine's ``Settings.ocr``); ``faces``: find faces and their expressions (always when the
    engine mixes them in, ``Settings.faces``); ``caption_model``: a captioning card or folder
    (default: ``Settings.caption_model``; none: no caption)."""
    engine = engine or default_engine()
    space = engine.space
    read = engine.settings.ocr if read is None else read
    captioner = engine.captioner(caption_model)
    paths = expand_paths(inputs)
    side = None if read or space.options.ocr else SIZE  # text is read at full size
    for start in range(0, len(paths), CHUNK):
        results: dict[str, Description] = {}
        good: list[Media] = []
        chunk = paths[start : start + CHUNK]
        videos = {str(p) for p in chunk if is_video(p)}
        for p in videos:
            results[p] = Description(p, error="a video: sensorium summarize gives its timeline")
        for path, item in decode_all([p for p in chunk if str(p) not in videos], side):
            if isinstance(item, MediaError):
                results[str(path)] = Description(str(path), error=item.cause,
                                                           error_kind=item.kind)
            elif not isinstance(item, ImageMedia | AudioMedia):
                results[str(path)] = Description(str(path), error="a text file: already words")
            else:
                good.append(item)
        for d in _describe_chunk(space, good, read, captioner, faces) if good else []:
            results[d.path] = d
        for path in paths[start : start + CHUNK]:
            yield results[str(path)]
        on_done(len(paths[start : start + CHUNK]))


def describe(
    inputs: Iterable[str | Path],
    read: bool | None = None,
    caption_model: str | None = None,
    faces: bool = False,
    engine: Engine | None = None,
) -> list[Description]:
    """Describe image and audio files in words; one result per file (``faces``: with the
    faces found in images and their expressions)."""
    return list(iter_describe(inputs, read, caption_model, engine, faces=faces))
