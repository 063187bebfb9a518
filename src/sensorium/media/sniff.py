"""Recognise what a file holds from its bytes, never from its name."""

from __future__ import annotations

import errno
import stat
from pathlib import Path

import filetype

from sensorium.errors import DecodeError, MissingFileError, UnsupportedMediaError
from sensorium.media.raw import raw_format
from sensorium.media.types import MediaKind, av_cause

__all__ = ["check_regular", "image_format", "sniff"]

_HEAD = 8192  # enough for every signature filetype knows, and for the text check

# Containers that may hold video, audio or both: PyAV decides by their streams.
_AV_CONTAINERS = {"video", "audio"}


_SPECIAL = {stat.S_IFIFO: "a named pipe", stat.S_IFCHR: "a character device",
            stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}  # fmt: skip


def check_regular(path: Path) -> int:
    """The size of ``path`` if it is a regular file (links followed); else a MediaError.

    Checked before anything opens the file: opening a named pipe blocks until a writer comes,
    and a device such as /dev/zero never ends.
    """
    try:
        st = path.stat()
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise MissingFileError(path, "no such file") from e
        cause = "a loop of symbolic links" if e.errno == errno.ELOOP else e.strerror or str(e)
        raise DecodeError(path, cause) from e
    if stat.S_ISDIR(st.st_mode):
        raise DecodeError(path, "is a directory")
    if not stat.S_ISREG(st.st_mode):
        what = _SPECIAL.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise UnsupportedMediaError(path, f"{what}, not a regular file: skipped")
    return st.st_size


def _text_encoding(head: bytes) -> str | None:
    """ "utf-16" / "utf-8" when ``head`` is text in it, else None. Only a byte-order mark
    makes UTF-16: nearly any bytes without NULs decode as UTF-16."""
    # A multi-byte character may be cut at the end of the head: drop 3 bytes there.
    body = head if len(head) < _HEAD else head[:-3]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            body[: len(body) // 2 * 2].decode("utf-16")
            return "utf-16"
        except UnicodeDecodeError:
            return None
    if b"\x00" in head:
        return None
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return None


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 or UTF-16 text, or 8-bit text (Latin-1, CP-1252): no NULs, few control bytes."""
    if _text_encoding(head) is not None:
        return True
    controls = sum(b < 32 and b not in (9, 10, 12, 13) for b in head)
    return b"\x00" not in head and controls <= len(head) // 100


def _bmp_header(head: bytes) -> bool:
    """A BMP file header whose info-header size is one that BMP defines."""
    return len(head) >= 18 and int.from_bytes(head[14:18], "little") in (
        12,
        40,
        52,
        56,
        64,
        108,
        124,
    )


# Signatures short enough to begin ordinary text ("BMW", "GIF is...", "SQLite notes"): the
# guess stands only when the rest of the header confirms it.
_CONFIRM = {
    "image/bmp": _bmp_header,
    "image/gif": lambda head: head[:6] in (b"GIF87a", b"GIF89a"),
    "application/x-sqlite3": lambda head: head[:16] == b"SQLite format 3\x00",
}


# ISO-BMFF brands of still images and image sequences (HEIF, AVIF): a phone's photo, burst
# or live-photo still. filetype knows only some ("heic", or "mif1" listing "heic"), and PyAV
# would take the rest for a video without streams.
_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1",
                           b"mif2", b"msf1", b"avif", b"avis"})  # fmt: skip


def _ftyp_brands(head: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO-BMFF file's ``ftyp`` box (empty if none)."""
    if head[4:8] != b"ftyp":
        return set()
    size = min(int.from_bytes(head[:4], "big"), len(head), 256)
    return {head[8:12], *(head[i : i + 4] for i in range(16, size - 3, 4))}


def image_format(head: bytes) -> str | None:
    """ "HEIF", "AVIF" or a RAW format ("DNG", "NEF", ...) when the bytes ``head`` begin one
    of the camera formats that a signature library does not tell from others, else None."""
    brands = _ftyp_brands(head)
    if b"avif" in brands or b"avis" in brands:
        return "AVIF"
    if brands & _IMAGE_BRANDS:
        return "HEIF"
    return raw_format(head)


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
    check_regular(path)
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD)
    except OSError as e:
        raise DecodeError(path, e.strerror or str(e)) from e
    if not head:
        raise DecodeError(path, "the file is empty")
    if image_format(head) is not None:
        return MediaKind.IMAGE
    guess = filetype.guess(head)
    if guess is not None and not _CONFIRM.get(guess.mime, lambda _: True)(head):
        guess = None  # a short signature the header does not bear out
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
