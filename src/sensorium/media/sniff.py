"""Recognise what a file holds from its bytes, never from its name."""

from __future__ import annotations

from pathlib import Path

import filetype

from sensorium.errors import DecodeError, UnsupportedMediaError
from sensorium.media.types import MediaKind, av_cause

__all__ = ["sniff"]

_HEAD = 8192  # enough for every signature filetype knows, and for the text check

# Containers that may hold video, audio or both: PyAV decides by their streams.
_AV_CONTAINERS = {"video", "audio"}


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    for encoding in ("utf-8", "utf-16"):
        try:
            # A multi-byte character may be cut at the end of the head: drop 3 bytes there.
            head.decode(encoding) if len(head) < _HEAD else head[:-3].decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _streams_kind(path: Path) -> MediaKind:
    """Open a container with PyAV: video when it has a video stream, else audio."""
    import av

    try:
        with av.open(str(path)) as container:
            cover = av.stream.Disposition.attached_pic  # album art in a music file
            has_video = any(
                s.type == "video" and s.frames != 1 and not s.disposition & cover
                for s in container.streams
            )
            has_audio = bool(container.streams.audio)
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise DecodeError(path, f"cannot read the container: {av_cause(e)}") from e
    if has_video:
        return MediaKind.VIDEO
    if has_audio:
        return MediaKind.AUDIO
    raise DecodeError(path, "the container has neither an audio nor a video stream")


def sniff(path: str | Path) -> MediaKind:
    """The kind of media in ``path``, from its content. Raises a MediaError subclass."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD)
    except OSError as e:
        raise DecodeError(path, e.strerror or str(e)) from e
    if not head:
        raise DecodeError(path, "the file is empty")
    guess = filetype.guess(head)
    if guess is not None:
        family = guess.mime.split("/")[0]
        if family == "image":
            return MediaKind.IMAGE
        if family in _AV_CONTAINERS:
            return _streams_kind(path)
        raise UnsupportedMediaError(path, f"unsupported content ({guess.mime})")
    if head.startswith(b"#!AMR") or head[4:8] == b"ftyp":
        return _streams_kind(path)
    if _looks_like_text(head):
        return MediaKind.TEXT
    raise UnsupportedMediaError(path, "not an image, audio, video or text file")
