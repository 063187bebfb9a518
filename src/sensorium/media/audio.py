"""Decode audio with PyAV (any container and codec FFmpeg reads) to 16 kHz mono float32."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from sensorium.errors import DecodeError, MediaTooLargeError
from sensorium.media.types import SAMPLE_RATE, AudioMedia, av_cause

__all__ = ["MAX_SECONDS", "load_audio", "resample"]

MAX_SECONDS = 4 * 3600  # longer inputs are refused: 4 h of 16 kHz float32 is 0.9 GB


def _decode(path: Path, max_seconds: float) -> np.ndarray:
    limit = int(max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise DecodeError(path, "no audio stream")
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunk = out.to_ndarray().reshape(-1)  # (1, n) planar mono -> (n,)
                chunks.append(chunk)
                total += len(chunk)
            if total > limit:
                raise MediaTooLargeError(path, f"longer than {max_seconds:.0f} s")
        for out in resampler.resample(None):  # flush the resampler's buffer
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


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
    try:
        samples = _decode(path, max_seconds)
    except (DecodeError, MediaTooLargeError):
        raise
    except (av.error.FFmpegError, ValueError, UnicodeDecodeError) as e:
        raise DecodeError(path, f"cannot decode the audio: {av_cause(e)}") from e
    if samples.size == 0:
        raise DecodeError(path, "no audio samples could be decoded")
    return AudioMedia(path=str(path), samples=samples)
