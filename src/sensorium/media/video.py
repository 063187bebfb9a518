"""Decode video with PyAV as a stream: sampled frames, timed by timestamps, turned upright.

Frames are kept at ``fps`` (about one a second by default) plus the first frame of every shot,
so a cut between two samples still starts a new segment at the right time. Every decoded frame
is shrunk to a 32x32 grey thumbnail to find cuts; only the kept frames are converted to RGB.
Nothing but the current frame is held, so memory does not grow with the video's length.

Cuts are found here rather than with PySceneDetect: it needs OpenCV and decodes the stream
itself, and we must decode it once anyway for the sampled frames; a thumbnail difference is
what its fast detectors compute too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

from sensorium.errors import DecodeError, MediaTooLargeError
from sensorium.media.sniff import check_regular
from sensorium.media.types import av_cause

__all__ = ["CUT_FLOOR", "CUT_RATIO", "Frame", "VideoInfo", "frames", "probe"]

MAX_SECONDS = 12 * 3600  # longer videos are refused
# A new shot starts where consecutive 32x32 grey thumbnails differ (mean |difference|, 0..1)
# by more than CUT_FLOOR and more than CUT_RATIO times the recent average difference: an
# adaptive threshold, as PySceneDetect's AdaptiveDetector, so camera motion is not a cut.
# Measured on the Tux Paint test videos: cuts differ by 0.015 to 0.17 (a small photo on a
# large white frame changes few pixels), frames within a still shot by < 0.003.
CUT_FLOOR = 0.012
CUT_RATIO = 5.0
MIN_SHOT = 0.5  # seconds: a "cut" sooner than this after the last one is a flash, not a shot
THUMB = 32


@dataclass(frozen=True)
class VideoInfo:
    path: str
    duration: float  # seconds, from the container (0 when it does not say)
    width: int  # as displayed, after rotation
    height: int
    rotation: int  # degrees counter-clockwise applied to stored frames to show them upright
    fps: float  # average frame rate (variable-rate videos are timed by timestamps anyway)
    has_audio: bool
    codec: str


@dataclass(frozen=True)
class Frame:
    time: float  # seconds from the start of the video
    image: Image.Image  # RGB, upright, short side about ``side`` pixels
    cut: bool  # the first frame of a new shot


def _open(path: Path) -> av.container.InputContainer:
    check_regular(Path(path))  # a named pipe would block av.open until a writer comes
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise DecodeError(path, f"cannot read the container: {av_cause(e)}") from e
    if not container.streams.video:
        container.close()
        raise DecodeError(path, "no video stream")
    return container


def _rotation(container: av.container.InputContainer) -> int:
    """The display matrix's rotation. PyAV exposes it on decoded frames only, so the first
    frame is decoded (cheap); a stream with no decodable frame counts as upright."""
    try:
        frame = next(container.decode(video=0), None)
    except (av.error.FFmpegError, ValueError):
        return 0
    return round(frame.rotation or 0) if frame is not None else 0


def probe(path: str | Path) -> VideoInfo:
    """What a video holds, without decoding it. Raises ``DecodeError`` if it cannot be read."""
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        duration = float(container.duration or 0) / av.time_base
        if not duration and stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        w, h = stream.codec_context.width, stream.codec_context.height
        rotation = _rotation(container)
        if rotation % 180:
            w, h = h, w
        return VideoInfo(
            path=str(path), duration=duration, width=w, height=h, rotation=rotation,
            fps=float(stream.average_rate or 0), has_audio=bool(container.streams.audio),
            codec=stream.codec_context.name,
        )  # fmt: skip


def _thumb(frame: av.VideoFrame) -> np.ndarray:
    """(32, 32) float32 grey in [0, 1]: enough to see a cut, cheap to compute per frame."""
    small = frame.reformat(width=THUMB, height=THUMB, format="gray")
    return small.to_ndarray().astype(np.float32) / 255.0


def _upright(frame: av.VideoFrame, side: int) -> Image.Image:
    """RGB image with its short side about ``side``, rotated as the display matrix says."""
    scale = side / max(1, min(frame.width, frame.height))
    w, h = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    image = frame.to_image(width=w, height=h)
    rotation = round(frame.rotation or 0)
    return image.rotate(rotation, expand=True) if rotation % 360 else image


def frames(
    path: str | Path,
    fps: float = 1.0,
    side: int = 224,
    cut_floor: float = CUT_FLOOR,
    max_seconds: float = MAX_SECONDS,
) -> Iterator[Frame]:
    """Sampled frames of a video, in time order. A truncated file yields what decodes and
    stops; a file of which no frame decodes raises ``DecodeError``."""
    path = Path(path)
    step = 1.0 / fps
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: decoding is most of the cost
        origin = float(stream.start_time * (stream.time_base or 0)) if stream.start_time else 0.0
        next_sample, last_cut, previous, recent = 0.0, -MIN_SHOT, None, 0.0
        count, t = 0, 0.0
        try:
            for frame in container.decode(stream):
                t = max(0.0, frame.time - origin) if frame.time is not None else t + step
                if t > max_seconds:
                    raise MediaTooLargeError(path, f"longer than {max_seconds:.0f} s")
                thumb = _thumb(frame)
                diff = 0.0 if previous is None else float(np.abs(thumb - previous).mean())
                cut = previous is None or (
                    diff > max(cut_floor, CUT_RATIO * recent) and t - last_cut >= MIN_SHOT
                )
                if not cut:
                    recent = 0.9 * recent + 0.1 * diff  # moving average of in-shot change
                previous = thumb
                if cut:
                    last_cut = t
                if cut or t >= next_sample:
                    next_sample = t + step  # sampling restarts at a cut
                    count += 1
                    yield Frame(t, _upright(frame, side), cut)
        except (av.error.FFmpegError, ValueError) as e:
            if count == 0:
                raise DecodeError(path, f"cannot decode the video: {av_cause(e)}") from e
            # A truncated file: what decoded before the damage is kept.
    if count == 0:
        raise DecodeError(path, "no video frame could be decoded")
