"""A corpus of awkward inputs (issue 17): the files users actually hand a search engine.

``build(folder)`` writes one file (or link, or pipe) per kind and returns a ``Kind`` record
for each: whether the engine should use it (``good``: it decodes and gets its usual result)
or refuse it (``bad``: one line naming the file and the cause), and why it is awkward. The
files are made from real recordings and photos (DATA.md: scikit-image's coffee photo, an
Asterisk prompt, Tux Paint bird calls and an elephant stamp said aloud), damaged or re-wrapped
the ways files get damaged: cut short by a download, misnamed, written by odd tools. A few
untouched real files are mixed in: they must get their usual result whatever lies beside them.

A kind this machine cannot make (``chmod 000`` means nothing to root) is still returned, with
``skip`` saying why, so a report lists it.

``run_cli`` runs one command as its own process, bounded in time, with its own peak memory:
the test and ``benchmarks/corpus.py`` both judge the command line through it.
"""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from sensorium.eval.datasets import ASTERISK, TUXPAINT

__all__ = ["BAD", "GOOD", "Call", "Kind", "build", "run_cli"]

GOOD, BAD = "good", "bad"
# What a good kind holds; a command says which of these it takes.
IMAGE, AUDIO, VIDEO, MUTE_VIDEO, TEXT = "image", "audio", "video", "mute video", "text"

SPEECH = ASTERISK / "hello-world.wav"  # a person saying "hello world", 8 kHz
BIRD = TUXPAINT / "animals/birds/crow.ogg"  # 2 s, Ogg Vorbis
SONG = TUXPAINT / "animals/birds/blackbird.ogg"  # 8 s: long enough to keep audio when cut
STAMP = TUXPAINT / "animals/mammals/elephant.png"
SPOKEN = TUXPAINT / "animals/mammals/elephant_desc.ogg"  # "An elephant." said by a person


@dataclass(frozen=True)
class Kind:
    name: str  # short and unique: "truncated-jpeg-half"
    path: Path  # the file as handed to the engine (a link is not resolved)
    expected: str  # GOOD: decoded and used as usual; BAD: refused in one line naming it
    why: str  # what makes it awkward, in a few words
    media: str | None = None  # what a good one holds: IMAGE, AUDIO, VIDEO, MUTE_VIDEO, TEXT
    says: str = ""  # a bad one: words its refusal must contain (the cause, in a user's terms)
    slow: bool = False  # costly for every model (an hour of audio)
    skip: str = ""  # why it could not be made on this machine ("" when it was)


# -- writers -------------------------------------------------------------------------------


def _wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """(T,) or (T, C) float32 -> 32-bit float WAV (format 3), int16 -> 16-bit PCM; written by
    hand, since the ``wave`` module writes integer PCM only."""
    samples = samples.reshape(len(samples), -1)
    fmt = 3 if samples.dtype == np.float32 else 1
    channels, width = samples.shape[1], samples.dtype.itemsize
    data = np.ascontiguousarray(samples, samples.dtype.newbyteorder("<")).tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16,
                         fmt, channels, rate, rate * channels * width, channels * width,
                         8 * width, b"data", len(data))  # fmt: skip
    path.write_bytes(header + data)


def _silence(path: Path, seconds: int = 3600, rate: int = 8000) -> None:
    """A 16-bit WAV of digital silence, written a minute at a time."""
    n = seconds * rate
    with path.open("wb") as f:
        f.write(struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + 2 * n, b"WAVE", b"fmt ", 16, 1,
                            1, rate, 2 * rate, 2, 16, b"data", 2 * n))  # fmt: skip
        minute = bytes(2 * 60 * rate)
        for _ in range(seconds // 60):
            f.write(minute)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bomb(path: Path) -> None:
    """A valid PNG header announcing 40000 x 40000 pixels (1.6 GP) over a few bytes of data:
    what a decompression bomb looks like before it is opened."""
    ihdr = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                     + _png_chunk(b"IDAT", zlib.compress(bytes(1024)))
                     + _png_chunk(b"IEND", b""))  # fmt: skip


def _bad_crc(png: bytes) -> bytes:
    """The same PNG with one bit of its header's checksum flipped."""
    at = 8 + 8 + 13  # signature, IHDR length and type, IHDR body: the CRC follows
    return png[:at] + bytes([png[at] ^ 1]) + png[at + 1 :]


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _mp4_without_streams() -> bytes:
    """An MP4 whose movie header lists no track: ftyp, then moov holding only mvhd."""
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = (struct.pack(">B3xIIIIIH", 0, 0, 0, 1000, 0, 0x10000, 0x100) + bytes(10) + matrix
            + bytes(24) + struct.pack(">I", 1))  # fmt: skip
    return _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41") + _box(
        b"moov", _box(b"mvhd", mvhd)
    )


def _broken_exif(jpeg: bytes) -> bytes:
    """An APP1 Exif segment of random bytes right after the JPEG's start marker."""
    junk = b"Exif\x00\x00II*\x00" + np.random.default_rng(0).bytes(200)
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(junk) + 2) + junk + jpeg[2:]


def _saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def _video(seconds: float = 3.0, audio: str = "recordings", suffix: str = ".mp4") -> bytes:
    """A short H.264 video of the elephant stamp, "An elephant." said in it (real parts)."""
    from sensorium.eval.videos import Shot, write_video

    with tempfile.TemporaryDirectory() as tmp:
        shot = Shot(STAMP, seconds, SPOKEN, "elephant")
        return write_video(Path(tmp) / f"v{suffix}", [shot], fps=5, audio=audio).path.read_bytes()


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("inside.txt", "a file inside an archive")


def _sqlite(path: Path) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute("create table t (x)")
    db.close()


# -- the corpus ----------------------------------------------------------------------------

Content = bytes | Callable[[Path], object]  # the file's bytes, or what writes it


class _Corpus:
    def __init__(self, folder: Path, slow: bool) -> None:
        import skimage.data

        self.folder, self.slow = folder, slow
        self.kinds: list[Kind] = []
        self.photo = Image.fromarray(skimage.data.coffee()).convert("RGB")  # 600 x 400
        self.jpeg = _saved(self.photo, "JPEG", quality=90)
        self.png = _saved(self.photo.resize((300, 200)), "PNG")
        self.speech, self.bird = SPEECH.read_bytes(), BIRD.read_bytes()
        self.song = SONG.read_bytes()
        self.video = _video()

    def _write(self, filename: str, content: Content) -> Path:
        path = self.folder / filename
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content(path)
        return path

    def good(self, name: str, filename: str, media: str, why: str, content: Content,
             slow: bool = False) -> None:  # fmt: skip
        if slow and not self.slow:
            return
        path = self._write(filename, content)
        self.kinds.append(Kind(name, path, GOOD, why, media, slow=slow))

    def bad(self, name: str, filename: str, says: str, why: str, content: Content) -> None:
        path = self._write(filename, content)
        self.kinds.append(Kind(name, path, BAD, why, says=says))


def _real(c: _Corpus) -> None:
    """Untouched real files: each must get its usual result whatever lies beside it."""
    c.good("photo", "coffee.jpg", IMAGE, "a real photo (scikit-image's coffee)", c.jpeg)
    c.good("speech", "hello-world.wav", AUDIO, "a person saying 'hello world' (Asterisk)",
           c.speech)  # fmt: skip
    c.good("bird", "crow.ogg", AUDIO, "a crow calling (Tux Paint, Ogg Vorbis)", c.bird)
    c.good("note", "note.txt", TEXT, "a short note in UTF-8",
           b"Quarterly budget review on Tuesday.\n")  # fmt: skip
    c.good("video", "elephant.mp4", VIDEO, "3 s of H.264 + AAC, an elephant named aloud",
           c.video)  # fmt: skip


def _images(c: _Corpus) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise
    frames = [c.photo.resize((150, 100)).rotate(a) for a in (0, 90, 180)]
    deep = np.asarray(c.photo.convert("L"), np.uint16) * 257  # (400, 600) 16-bit
    level = np.linspace(0, 255, 20_000).astype(np.uint8)  # (20000,)
    ramp = level[:, None, None] * np.array([1, 0, 1], np.uint8)  # (20000, 1, 3) purple ramp
    c.good("exif-rotated-jpeg", "rotated.jpg", IMAGE, "EXIF orientation 6 (a phone upright)",
           _saved(c.photo, "JPEG", exif=exif))  # fmt: skip
    c.good(
        "animated-webp",
        "animated.webp",
        IMAGE,
        "an animated WebP of 3 frames",
        _saved(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=200),
    )
    c.good("multi-page-tiff", "pages.tif", IMAGE, "a TIFF of 3 pages",
           _saved(frames[0], "TIFF", save_all=True, append_images=frames[1:]))  # fmt: skip
    c.good("png-16-bit", "deep.png", IMAGE, "a 16-bit greyscale PNG (mode I;16)",
           _saved(Image.fromarray(deep), "PNG"))  # fmt: skip
    c.good("cmyk-jpeg", "cmyk.jpg", IMAGE, "a CMYK JPEG (a print workflow)",
           _saved(c.photo.convert("CMYK"), "JPEG"))  # fmt: skip
    c.good("palette-gif", "still.gif", IMAGE, "a GIF of 256 colours",
           _saved(frames[0].convert("P", palette=Image.Palette.ADAPTIVE), "GIF"))  # fmt: skip
    c.good("strip-1x20000", "strip.png", IMAGE, "1 x 20000 pixels, a coloured ramp",
           _saved(Image.fromarray(np.ascontiguousarray(ramp)), "PNG"))  # fmt: skip
    c.good("photo-named-wav", "photo.wav", IMAGE, "a JPEG named .wav", c.jpeg)
    c.good("dash-name", "-rf.jpg", IMAGE, "a name starting with '-' (read as an option)", c.jpeg)
    c.good("broken-exif-jpeg", "broken-exif.jpg", IMAGE, "an EXIF block of random bytes",
           _broken_exif(c.jpeg))  # fmt: skip
    c.bad("zero-byte-jpeg", "empty.jpg", "empty", "zero bytes", b"")
    c.bad("truncated-jpeg-head", "cut-head.jpg", "cannot decode the image",
          "a JPEG cut after 200 bytes", c.jpeg[:200])  # fmt: skip
    c.bad("truncated-jpeg-half", "cut-half.jpg", "truncated", "a JPEG cut halfway",
          c.jpeg[: len(c.jpeg) // 2])  # fmt: skip
    c.bad("truncated-png-half", "cut-half.png", "truncated", "a PNG cut halfway",
          c.png[: len(c.png) // 2])  # fmt: skip
    c.bad("png-signature-only", "signature.png", "cannot decode the image",
          "a PNG signature and 40 zero bytes", b"\x89PNG\r\n\x1a\n" + bytes(40))  # fmt: skip
    c.bad("png-bad-crc", "bad-crc.png", "cannot decode the image",
          "a PNG whose header checksum is wrong", _bad_crc(c.png))  # fmt: skip
    c.bad("decompression-bomb", "bomb.png", "pixels", "a PNG announcing 40000 x 40000 pixels",
          _bomb)  # fmt: skip


def _audio(c: _Corpus) -> None:
    from sensorium.media.audio import load_audio, resample

    voice = load_audio(SPEECH).samples  # (T,) 16 kHz float32
    high = resample(voice, 96_000)
    broken = voice.copy()
    broken[1000:1400], broken[3000], broken[5000] = np.nan, np.inf, -np.inf
    c.good("sound-named-png", "sound.png", AUDIO, "an Ogg Vorbis file named .png", c.bird)
    c.good("wav-96k-stereo", "hifi.wav", AUDIO, "96 kHz stereo 32-bit float WAV",
           lambda p: _wav(p, np.stack([high, 0.5 * high], 1), 96_000))  # fmt: skip
    c.good("nan-inf-wav", "nan.wav", AUDIO, "a float WAV holding NaN, +Inf and -Inf samples",
           lambda p: _wav(p, broken, 16_000))  # fmt: skip
    c.good("one-sample-wav", "one-sample.wav", AUDIO, "a WAV of a single sample",
           lambda p: _wav(p, np.array([1000], np.int16), 16_000))  # fmt: skip
    c.good("silence-1h", "silence-1h.wav", AUDIO, "an hour of silence (8 kHz WAV, 58 MB)",
           _silence, slow=True)  # fmt: skip
    c.good("truncated-wav-half", "cut-half.wav", AUDIO, "a WAV cut halfway (its header says "
           "more)", c.speech[: len(c.speech) // 2])  # fmt: skip
    c.good("truncated-ogg-half", "cut-half.ogg", AUDIO, "an Ogg Vorbis song cut halfway",
           c.song[: len(c.song) // 2])  # fmt: skip
    c.bad("truncated-ogg-headers", "cut-headers.ogg", "end of file",
          "an Ogg Vorbis file cut in its codebooks (no audio page)",
          c.bird[: len(c.bird) // 2])  # fmt: skip
    c.bad("truncated-wav-header", "cut-header.wav", "cannot read",
          "a WAV cut inside its header", c.speech[:30])  # fmt: skip
    c.bad(
        "random-bytes-mp3",
        "noise.mp3",
        "not an image, audio, video or text",
        "64 KB of random bytes named .mp3",
        np.random.default_rng(1).bytes(65_536),
    )


def _videos(c: _Corpus) -> None:
    mkv = _video(suffix=".mkv")
    c.good("video-no-audio", "mute.mp4", MUTE_VIDEO, "an H.264 video without an audio track",
           _video(audio="none"))  # fmt: skip
    c.good("truncated-mkv-half", "cut-half.mkv", VIDEO, "a Matroska video cut halfway (the "
           "first half plays)", mkv[: len(mkv) // 2])  # fmt: skip
    c.bad("truncated-mp4-half", "cut-half.mp4", "cannot read the container",
          "an MP4 cut halfway (its index, written last, is lost)",
          c.video[: len(c.video) // 2])  # fmt: skip
    c.bad("truncated-mp4-head", "cut-head.mp4", "cannot read the container",
          "an MP4 cut after 1 KB", c.video[:1024])  # fmt: skip
    c.bad("mp4-without-streams", "no-streams.mp4", "neither an audio nor a video stream",
          "an MP4 whose header lists no track", _mp4_without_streams())  # fmt: skip


def _texts(c: _Corpus) -> None:
    said = "Le café du matin coûte deux euros à Zürich."
    c.good("utf16-text", "utf16.txt", TEXT, "UTF-16 with a byte-order mark", said.encode("utf-16"))
    c.good("latin1-text", "latin1.txt", TEXT, "8-bit Latin-1 text (not valid UTF-8)",
           said.encode("latin-1"))  # fmt: skip
    c.good("text-starting-bm", "bm.txt", TEXT, "text starting with 'BM' (a BMP's signature)",
           b"BMW service notes: brakes checked, oil changed.\n")  # fmt: skip
    c.good("text-starting-gif", "gif.txt", TEXT, "text starting with 'GIF'",
           b"GIF or PNG for the logo? PNG keeps the edges sharp.\n")  # fmt: skip
    c.good("text-starting-sqlite", "sqlite.txt", TEXT, "text starting with 'SQLite format'",
           b"SQLite format notes: pages are 4096 bytes by default.\n")  # fmt: skip
    c.good("text-named-jpg", "notes.jpg", TEXT, "plain text named .jpg",
           b"Meeting moved to Thursday at noon.\n")  # fmt: skip
    c.good("newline-name", "two\nlines.txt", TEXT, "a newline inside the file name",
           b"A name on two lines.\n")  # fmt: skip
    c.bad("nul-bytes", "nul.txt", "not an image, audio, video or text",
          "text with NUL bytes between the words", b"hello\x00world\x00" * 20)  # fmt: skip
    c.bad("whitespace-only", "blank.txt", "empty", "spaces and newlines only", b"  \n\n\t \n")
    c.bad("huge-text", "huge.txt", "over", "11 MB of text (over the 10 MB bound)",
          b"all work and no play makes a dull corpus\n" * 270_000)  # fmt: skip
    c.bad("zip-archive", "archive.zip", "unsupported", "a zip archive", _zip)
    c.bad("sqlite-db", "data.sqlite", "unsupported", "a real SQLite database", _sqlite)
    c.bad(
        "pdf",
        "paper.pdf",
        "unsupported",
        "a (tiny) PDF document",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    )


def _special(c: _Corpus) -> None:
    """Things in a folder that are not regular files, and one that cannot be read."""
    c.bad("fifo", "pipe.wav", "named pipe", "a named pipe (opening it blocks)", os.mkfifo)
    c.bad("link-to-dev-zero", "zeros.png", "character device", "a link to /dev/zero (endless)",
          lambda p: p.symlink_to("/dev/zero"))  # fmt: skip
    c.bad("link-loop", "loop.jpg", "loop", "a link to itself", lambda p: p.symlink_to(p.name))
    c.bad("dangling-link", "gone.jpg", "no such file", "a link to a file that is not there",
          lambda p: p.symlink_to("/nonexistent/photo.jpg"))  # fmt: skip
    path = c.folder / "locked.jpg"
    path.write_bytes(c.jpeg)
    path.chmod(0)
    skip = ""
    if os.access(path, os.R_OK):  # root reads anything: the kind cannot be made here
        skip = "running as root: mode 000 does not stop reading"
        path.unlink()
    c.kinds.append(Kind("unreadable", path, BAD, "mode 000 (no permission to read)",
                        says="Permission denied", skip=skip))  # fmt: skip


def build(folder: Path, slow: bool = True) -> list[Kind]:
    """Write every kind into ``folder`` (created); ``slow``: the costly kinds too (an hour of
    audio). Returns the kinds in the order written, the real good files first."""
    folder.mkdir(parents=True, exist_ok=True)
    c = _Corpus(folder, slow)
    for part in (_real, _images, _audio, _videos, _texts, _special):
        part(c)
    assert len({k.name for k in c.kinds}) == len(c.kinds), "kind names must be unique"
    return c.kinds


# -- running the command line over it ------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One ``sensorium`` process: what it printed, how it ended, what it cost."""

    rc: int | None  # exit status (128 + N for signal N); None: killed at the time bound
    out: str
    err: str
    seconds: float
    peak_mb: float  # the process's own peak resident memory

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.out + self.err

    @property
    def hung(self) -> bool:
        return self.rc is None

    @property
    def crashed(self) -> bool:
        """Ended by a signal or with a status the command line does not define (0, 1, 2)."""
        return self.rc is not None and self.rc not in (0, 1, 2)


def run_cli(args: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> Call:
    """``python -m sensorium ARGS`` in its own process group, killed at ``timeout`` seconds.
    Output goes to files (a pipe left unread would block the child). The peak memory is the
    child's own ``VmHWM``, read while it runs: ``wait4``'s ``ru_maxrss`` is no use, as Linux
    carries the parent's peak into the child when it execs (a full pytest run holds ~2 GB)."""
    with (open(os.devnull, "rb") as stdin, tempfile.TemporaryFile() as out,
          tempfile.TemporaryFile() as err):  # fmt: skip
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "sensorium", *args], stdin=stdin,
                             stdout=out, stderr=err, start_new_session=True,
                             env={**os.environ, **(env or {})})  # fmt: skip
        rc, peak_kb = _wait(p.pid, t0 + timeout)
        p.returncode = -9 if rc is None else rc  # reaped here: Popen must not wait again
        seconds = time.perf_counter() - t0
        texts = []
        for f in (out, err):
            f.seek(0)
            texts.append(f.read().decode("utf-8", "replace"))
    return Call(rc, texts[0], texts[1], seconds, peak_kb / 1024)


def _wait(pid: int, deadline: float) -> tuple[int | None, int]:
    """(exit status, or None when killed at ``deadline``; peak RSS in KB)."""
    peak = 0
    while True:
        peak = max(peak, _high_water_kb(pid))  # monotonic: the last read before exit is the peak
        done, status, _ = os.wait4(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return (code if code >= 0 else 128 - code), peak
        if time.perf_counter() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return None, peak
        time.sleep(0.02)


def _high_water_kb(pid: int) -> int:
    """The process's peak resident set since its exec, in KB; 0 once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0  # a zombie has no memory left to report
