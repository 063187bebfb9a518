"""Speech to text for files, with timestamps; silence, music and noise give empty text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sensorium.engine import Engine, default_engine
from sensorium.errors import MediaError
from sensorium.media.types import AudioMedia
from sensorium.perceive.inputs import decode_all, expand_paths
from sensorium.perceive.results import Transcription

__all__ = ["iter_transcribe", "transcribe"]


def iter_transcribe(
    inputs: Iterable[str | Path],
    model: str = "base",
    hint: str | None = None,
    language: str | None = None,
    on_done: Callable[[int], None] = lambda _: None,
    engine: Engine | None = None,
) -> Iterator[Transcription]:
    rec = (engine or default_engine()).recognizer(model)
    for path, item in decode_all(expand_paths(inputs)):
        if isinstance(item, MediaError):
            yield Transcription(str(path), error=item.cause, error_kind=item.kind)
        elif not isinstance(item, AudioMedia):
            yield Transcription(str(path), error=f"{item.kind} has no speech to transcribe")
        else:
            yield Transcription(str(path), rec.transcribe(item, hint=hint, language=language))
        on_done(1)


def transcribe(
    inputs: Iterable[str | Path],
    model: str = "base",
    hint: str | None = None,
    language: str | None = None,
    engine: Engine | None = None,
) -> list[Transcription]:
    """Transcribe audio (or the audio track of video) files; one result per file."""
    return list(iter_transcribe(inputs, model, hint, language, engine=engine))
