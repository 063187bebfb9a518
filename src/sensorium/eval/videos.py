"""Test videos built with PyAV from real photos and real recordings, with known ground truth.

No registry ships labelled video (DATA.md), so a video here is a sequence of shots: a Tux Paint
photo held still for some seconds, with a real recording (its spoken caption) in the audio
track at a known time; or a real photo (ImageNet validation photos, ``imagenet_photos``)
filling the frame, as a camera would, with its class name spoken (espeak-ng) or no sound.
What is on screen when, and what is said when, is therefore known.
The same writer makes the hard cases: no audio track, a silent track, rotation metadata,
variable frame rate, and (cut by the caller) a truncated file.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps

from sensorium.eval.datasets import DatasetMissingError, Stamp, tuxpaint_stamps
from sensorium.media.audio import load_audio
from sensorium.media.image import load_image
from sensorium.media.types import SAMPLE_RATE

__all__ = ["BuiltVideo", "Shot", "photo_videos", "tuxpaint_videos", "write_video"]

SPEECH_OFFSET = 0.5  # seconds after a shot starts that its recording begins


@dataclass(frozen=True)
class Shot:
    image: Path  # a photo, held still for the whole shot
    seconds: float
    audio: Path | None = None  # a recording that starts SPEECH_OFFSET into the shot
    label: str = ""  # what the shot shows (ground truth)


@dataclass(frozen=True)
class BuiltVideo:
    path: Path
    intervals: list[tuple[float, float, str]] = field(default_factory=list)  # start, end, label


def _canvas(photo: Path, size: tuple[int, int], fill: bool = False) -> np.ndarray:
    """The photo fitted on a white frame of ``size`` (w, h), or (``fill``) covering the whole
    frame, centre-cropped to its shape: (h, w, 3) uint8."""
    image = load_image(photo).image.copy()
    if fill:
        return np.asarray(ImageOps.fit(image, size, Image.Resampling.BICUBIC))
    image.thumbnail((size[0] - 16, size[1] - 16))
    canvas = Image.new("RGB", size, (255, 255, 255))
    canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    return np.asarray(canvas)


def _soundtrack(shots: list[Shot], total: float) -> np.ndarray:
    track = np.zeros(int(total * SAMPLE_RATE) + 1, np.float32)  # (T,)
    clips: dict[Path, np.ndarray] = {}  # a long video repeats recordings: decode each once
    t = 0.0
    for shot in shots:
        if shot.audio is not None:
            if shot.audio not in clips:
                clips[shot.audio] = load_audio(shot.audio).samples
            clip = clips[shot.audio]
            at = int((t + SPEECH_OFFSET) * SAMPLE_RATE)
            room = min(len(clip), int((t + shot.seconds) * SAMPLE_RATE) - at)
            track[at : at + room] += clip[:room]
        t += shot.seconds
    return track


def _write_audio(container: av.container.OutputContainer, stream, track: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, len(track), 1024):  # AAC frames hold 1,024 samples
        chunk = track[start : start + 1024][None]  # (1, n) planar mono
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(chunk), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = SAMPLE_RATE, start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def write_video(
    path: Path,
    shots: list[Shot],
    fps: int = 10,
    size: tuple[int, int] = (320, 240),
    audio: str = "recordings",  # "recordings" | "silent" | "none"
    rotation: int = 0,  # display rotation in degrees (frames are stored turned the other way)
    variable_rate: bool = False,  # irregular frame timestamps, as phones write them
    seed: int = 0,
    fill: bool = False,  # photos cover the frame (a camera's video), not fitted on white
) -> BuiltVideo:
    """Write an H.264 (+ AAC) MP4 of the shots; returns the ground-truth intervals."""
    rng = random.Random(seed)
    intervals, t = [], 0.0
    for shot in shots:
        intervals.append((round(t, 3), round(t + shot.seconds, 3), shot.label))
        t += shot.seconds
    total = t
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stored = size if rotation % 180 == 0 else (size[1], size[0])
        stream.width, stream.height, stream.pix_fmt = stored[0], stored[1], "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)  # pts in milliseconds: any rate
        stream.options = {"preset": "veryfast"}
        if rotation:
            stream.set_display_rotation(rotation)
        sound = None  # every stream must exist before the first packet is written
        if audio != "none":
            sound = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        _write_frames(container, stream, shots, fps, size, rotation, variable_rate, rng, fill)
        if sound is not None:
            track = _soundtrack(shots, total) if audio == "recordings" else np.zeros(
                int(total * SAMPLE_RATE), np.float32)  # fmt: skip
            _write_audio(container, sound, track)
    return BuiltVideo(path, intervals)


def _write_frames(container, stream, shots, fps, size, rotation, variable_rate, rng, fill) -> None:  # type: ignore[no-untyped-def]
    t = 0.0
    for shot in shots:
        pixels = _canvas(shot.image, size, fill)
        if rotation:  # stored turned back, so that the display rotation makes it upright
            pixels = np.asarray(Image.fromarray(pixels).rotate(-rotation, expand=True))
        end = t + shot.seconds
        while t < end - 1e-6:
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
            step = 1.0 / fps
            if variable_rate:  # gaps between half and twice the nominal interval
                step *= rng.choice([0.5, 1.0, 1.5, 2.0])
            t = min(end, t + step)
    for packet in stream.encode(None):
        container.mux(packet)


def _query(caption: str) -> str:
    """ "A red kangaroo." -> "red kangaroo": what a person would type."""
    words = caption.strip().rstrip(".").split()
    return " ".join(words[1:] if words and words[0].lower() in {"a", "an", "the", "two"} else words)


def tuxpaint_videos(
    folder: Path, n_videos: int = 13, shots_per_video: int = 5, seed: int = 0
) -> list[BuiltVideo]:
    """Videos of Tux Paint stamps that have a spoken caption, each shot 4 to 8 s long, the
    caption spoken in it. Labels are what a person would search for ("red kangaroo")."""
    stamps: list[Stamp] = [s for s in tuxpaint_stamps() if s.spoken]
    rng = random.Random(seed)
    rng.shuffle(stamps)
    folder.mkdir(parents=True, exist_ok=True)
    videos = []
    for v in range(min(n_videos, len(stamps) // shots_per_video)):
        chosen = stamps[v * shots_per_video : (v + 1) * shots_per_video]
        shots = [
            Shot(s.image, rng.choice([4.0, 5.0, 6.0, 7.0, 8.0]), s.spoken, _query(s.caption))
            for s in chosen
        ]
        path = folder / f"tuxpaint-{v:02d}.mp4"
        videos.append(write_video(path, shots, seed=seed + v))
    return videos


def _speak(text: str, path: Path) -> Path:
    """``text`` spoken by espeak-ng into a WAV file (a known text at a known time)."""
    if shutil.which("espeak-ng") is None:
        raise DatasetMissingError("espeak-ng", "espeak-ng")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(path), text], check=True,
                   capture_output=True)  # fmt: skip
    return path


def photo_videos(
    folder: Path,
    photos: list[tuple[Path, str]],
    shots_per_video: int = 5,
    seed: int = 0,
) -> list[BuiltVideo]:
    """Videos of real photos (``(photo, label)``, e.g. ``imagenet_photos()``), each photo
    filling the frame for 4 to 8 s; every other video has its labels spoken in the shots
    (espeak-ng), the rest have a silent audio track. Each photo is in one video only."""
    chosen = list(photos)
    speech_folder = folder.parent / f"{folder.name}-speech"  # beside: ingest takes only videos
    rng = random.Random(seed)
    rng.shuffle(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    videos = []
    for v in range(len(chosen) // shots_per_video):
        spoken = v % 2 == 0
        part = chosen[v * shots_per_video : (v + 1) * shots_per_video]
        speech = [_speak(label, speech_folder / f"{v:02d}-{i}.wav") if spoken else None
                  for i, (_, label) in enumerate(part)]  # fmt: skip
        shots = [Shot(photo, rng.choice([4.0, 5.0, 6.0, 7.0, 8.0]), said, label)
                 for (photo, label), said in zip(part, speech)]  # fmt: skip
        name = f"photos-{v:02d}-{'spoken' if spoken else 'silent'}.mp4"
        videos.append(write_video(folder / name, shots, audio="recordings" if spoken else "silent",
                                  seed=seed + v, fill=True))  # fmt: skip
    return videos
