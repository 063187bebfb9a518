"""Decode audio with PyAV (any container and codec FFmpeg reads) to 16 kHz mono float32.

``audio_blocks`` streams a track in blocks of fixed length (a video's sound, which may last
hours, is never held whole); ``load_audio`` joins the blocks of a clip. NaN and infinite
samples are repaired as they are decoded, so no caller sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np

from sensorium.errors import DecodeError, MediaTooLargeError
from sensorium.media.types import SAMPLE_RATE, AudioMedia, av_cause

__all__ = ["BLOCK_SECONDS", "MAX_SECONDS", "audio_blocks", "load_audio", "resample"]

MAX_SECONDS = 4 * 3600  # longer inputs are refused: 4 h of 16 kHz float32 is 0.9 GB
BLOCK_SECONDS = 30.0  # audio_blocks' block: 1.9 MB of samples
_JOIN_SECONDS = 60.0  # load_audio's block, copied into its one array as it comes


def _decoded(
    path: Path, max_seconds: float, stated: Callable[[int], None] | None = None
) -> Iterator[np.ndarray]:
    """The resampler's output as it comes, (n,) float32 pieces of about a codec frame.
    ``stated`` is told the container's length (``_length``) once it is open, before the first
    piece: ``load_audio`` sizes its array by it without opening the file a second time."""
    limit = int(max_seconds * SAMPLE_RATE)
    total = 0
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise DecodeError(path, "no audio stream")
        stream = container.streams.audio[0]
        if stated is not None:
            stated(_length(container, stream))
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunk = _finite(out.to_ndarray().reshape(-1))  # (1, n) planar mono -> (n,)
                total += len(chunk)
                yield chunk
            if total > limit:
                raise MediaTooLargeError(path, f"longer than {max_seconds:.0f} s")
        for out in resampler.resample(None):  # flush the resampler's buffer
            yield _finite(out.to_ndarray().reshape(-1))


def _finite(samples: np.ndarray) -> np.ndarray:
    """A float WAV may hold NaN or infinite samples (a broken tool, a bad plug-in): NaN
    becomes silence and an infinity full scale. Left there, one NaN makes every score of the
    clip NaN. After resampling, as before: its filter spreads a NaN to its neighbours."""
    if np.isfinite(samples).all():
        return samples
    return np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)


def audio_blocks(
    path: str | Path, seconds: float = BLOCK_SECONDS, max_seconds: float = MAX_SECONDS
) -> Iterator[np.ndarray]:
    """The audio track as consecutive (n,) float32 blocks of ``seconds`` (the last shorter),
    decoded as they are read: memory holds one block, whatever the length. Joined, the blocks
    are ``load_audio``'s samples. Raises ``DecodeError`` (or ``MediaTooLargeError``) where
    decoding fails, after the blocks decoded before it."""
    return _blocks(Path(path), seconds, max_seconds)


def _blocks(
    path: Path, seconds: float, max_seconds: float, stated: Callable[[int], None] | None = None
) -> Iterator[np.ndarray]:
    """``audio_blocks``; ``stated`` as ``_decoded``'s."""
    size = max(1, round(seconds * SAMPLE_RATE))
    pending: list[np.ndarray] = []
    held = 0
    try:
        for chunk in _decoded(path, max_seconds, stated):
            pending.append(chunk)
            held += len(chunk)
            if held >= size:
                joined = np.concatenate(pending)
                starts = range(0, held - size + 1, size)
                for s in starts:
                    yield joined[s : s + size]
                rest = joined[starts[-1] + size :]
                pending, held = ([rest] if len(rest) else []), len(rest)
    except (DecodeError, MediaTooLargeError):
        raise
    except (av.error.FFmpegError, ValueError, UnicodeDecodeError) as e:
        raise DecodeError(path, f"cannot decode the audio: {av_cause(e)}") from e
    if held:
        yield np.concatenate(pending)


def resample(samples: np.ndarray, rate: int, from_rate: int = SAMPLE_RATE) -> np.ndarray:
    """(T,) mono float32 at ``from_rate`` -> at ``rate``, through PyAV's resampler (libswresample,
    band-limited: better than interpolating by hand)."""
    if rate == from_rate or not len(samples):
        return samples.astype(np.float32)
    frame = av.AudioFrame.from_ndarray(samples.astype(np.float32)[None], format="flt",
                                       layout="mono")  # fmt: skip
    frame.sample_rate = from_rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    out = [*resampler.resample(frame), *resampler.resample(None)]
    return np.concatenate([f.to_ndarray().reshape(-1) for f in out]).astype(np.float32)


def load_audio(path: str | Path, max_seconds: float = MAX_SECONDS) -> AudioMedia:
    path = Path(path)
    joined = _Joined(round(max_seconds * SAMPLE_RATE))
    for block in _blocks(path, _JOIN_SECONDS, max_seconds, stated=joined.expect):
        joined.add(block)
    samples = joined.samples()
    if samples.size == 0:
        raise DecodeError(path, "no audio samples could be decoded")
    return AudioMedia(path=str(path), samples=samples)


def _length(container: av.container.InputContainer, stream: av.AudioStream) -> int:
    """The samples at 16 kHz the container says its audio lasts, 0 when it does not say."""
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    else:
        seconds = (container.duration or 0) / av.time_base
    return max(0, round(seconds * SAMPLE_RATE))


class _Joined:
    """Blocks joined in one (T,) array, written into one of the length the container states
    (``expect``, with room for the resampler's tail): a list joined at the end holds an hour
    twice (460 MB at once). Where the container's length was wrong, what did not fit is
    joined after."""

    def __init__(self, cap: int) -> None:
        self.cap = cap  # samples at most (max_seconds'), whatever a header says
        self.out = np.empty(0, np.float32)
        self.filled = 0
        self.rest: list[np.ndarray] = []  # what did not fit in ``out``

    def expect(self, stated: int) -> None:
        self.out = np.empty(min(stated, self.cap) + SAMPLE_RATE, np.float32)

    def add(self, block: np.ndarray) -> None:
        if self.rest or self.filled + len(block) > len(self.out):
            self.rest.append(block)
        else:
            self.out[self.filled : self.filled + len(block)] = block
            self.filled += len(block)

    def samples(self) -> np.ndarray:
        if self.rest:
            return np.concatenate([self.out[: self.filled], *self.rest])
        # A view keeps the whole array alive. Its pages never written cost nothing only where
        # the allocator mapped fresh memory (glibc does above its mmap threshold, up to 32 MB;
        # below it reuses heap pages already resident), so where a header over-states the
        # length by more than a tenth the samples are copied out and the array freed.
        if self.filled < 0.9 * len(self.out):
            return self.out[: self.filled].copy()
        return self.out[: self.filled]
