"""One video -> timed segments in the shared space: what is seen, heard and said in each.

Frames are streamed and encoded in batches, and the audio track is streamed in windows through
the sound encoder and, where it holds speech, the recogniser with word timestamps
(``video/listen.py``): memory does not grow with the video's length. The timeline is cut at
shots (or windows), and each segment gets

- ``seen``: the image label bridge over the mean posteriors of its frames,
- ``heard``: the sound label bridge over the sound patches inside it,
- ``said``: the transcript words whose middle falls inside it,
- ``faces``: with ``SpaceOptions.faces``, the faces of its frame that shows the most, in words,
- ``written``: with ``SpaceOptions.ocr``, the distinct lines read in its frames (slides, signs,
  captions burnt into the picture),

mixed by confidence exactly as ``SharedSpace`` mixes an audio clip's parts. The video's own
vector is the duration-weighted mean of its segments.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from sensorium.encoders.base import l2_normalize, trim_heap
from sensorium.encoders.faces import FaceReading
from sensorium.encoders.ocr import Reading
from sensorium.encoders.speech import Transcript, Word
from sensorium.errors import DecodeError, MediaTooLargeError
from sensorium.media.types import ImageMedia
from sensorium.media.video import MAX_SECONDS, VideoInfo, frames, probe
from sensorium.space import DIM, SharedSpace
from sensorium.space.parts import Part, mix
from sensorium.video.listen import PATCH_CENTER, PATCH_SECONDS, Heard, listen
from sensorium.video.segments import WINDOW, cut_timeline

__all__ = ["VideoAnalysis", "VideoSegment", "analyze"]

# Frames encoded at once: 4 is as fast as 8 or 32 on 2 cores, with the same outputs, and ONNX
# Runtime's arena keeps one run's activations for good (32 frames: 157 MB, 8: 73 MB, 4: 35 MB).
FRAME_BATCH = 4
KEYFRAME_SIDE = 160  # thumbnails kept for contact sheets


@dataclass
class VideoSegment:
    index: int
    start: float  # seconds
    end: float
    vector: np.ndarray  # (384,) L2-normalised mix of the parts present
    parts: dict[str, float]  # "seen" | "heard" | "said" -> weight in the mix
    part_vectors: dict[str, np.ndarray]  # same keys -> (384,)
    seen: list[tuple[str, float]] = field(default_factory=list)  # image labels, best first
    heard: list[tuple[str, float]] = field(default_factory=list)  # sound labels, best first
    said: str = ""
    written: str = ""  # lines read in its frames (SpaceOptions.ocr)
    faces: str = ""  # the faces in its frames in words, "two people, smiling" (SpaceOptions.faces)
    words: list[Word] = field(default_factory=list)
    features: np.ndarray | None = None  # (1280,) mean image features of its frames
    keyframe: Image.Image | None = None  # the frame nearest its middle (``keyframes=True``)
    face_reading: FaceReading | None = None  # the faces of ``faces``' frame, one by one


@dataclass
class VideoAnalysis:
    info: VideoInfo
    duration: float  # seconds covered: shorter than the container says when truncated
    segments: list[VideoSegment]
    vector: np.ndarray  # (384,) the whole video
    transcript: Transcript | None
    truncated: bool = False
    notes: list[str] = field(default_factory=list)  # what was missing, in words


@dataclass
class _Frames:
    times: list[float] = field(default_factory=list)
    cuts: list[float] = field(default_factory=list)
    probs: list[np.ndarray] = field(default_factory=list)  # per batch (B, 1000)
    features: list[np.ndarray] = field(default_factory=list)  # per batch (B, 1280)
    thumbs: list[bytes] = field(default_factory=list)  # JPEG: 5 KB a frame, not 58 KB
    readings: list[Reading] = field(default_factory=list)  # per frame, with SpaceOptions.ocr
    faces: list[FaceReading] = field(default_factory=list)  # per frame, with SpaceOptions.faces


@dataclass(frozen=True)
class _Looks:
    """What is looked for in each sampled frame besides what it shows."""

    keyframes: bool  # keep a thumbnail
    ocr: bool  # read its text
    faces: bool  # find its faces


def _thumb(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((KEYFRAME_SIDE, KEYFRAME_SIDE))
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _encode_frames(
    space: SharedSpace, path: Path, fps: float, looks: _Looks, on_frame: Callable[[float], None]
) -> _Frames:
    out = _Frames()
    pending: list[ImageMedia] = []

    def flush() -> None:
        if pending:
            result = space.image.run(pending)
            out.probs.append(result.probs)
            out.features.append(result.features)
            if looks.ocr:
                out.readings += space.reader.read(pending)
            if looks.faces:
                out.faces += space.face_reader.read(pending)
            pending.clear()

    for f in frames(path, fps=fps):
        out.times.append(f.time)
        if f.cut:
            out.cuts.append(f.time)
        if looks.keyframes:
            out.thumbs.append(_thumb(f.image))
        pending.append(ImageMedia(str(path), f.image, f.image.width, f.image.height))
        if len(pending) == FRAME_BATCH:
            flush()
        on_frame(f.time)
    flush()
    return out


def _listen(space: SharedSpace, info: VideoInfo, notes: list[str]) -> Heard | None:
    """The audio track heard in windows (``video/listen.py``); None when there is none or
    none of it decodes, with the reason in ``notes``."""
    if not info.has_audio:
        notes.append("no audio track")
        return None
    try:
        heard = listen(space, info, MAX_SECONDS)
    except (DecodeError, MediaTooLargeError) as e:
        notes.append(f"audio track unreadable: {e.cause}")
        return None
    if heard.error:
        notes.append(f"audio track unreadable after {heard.duration:.1f} s: {heard.error}")
    return heard


def _segments(
    space: SharedSpace, bounds: list[tuple[float, float]], fr: _Frames, audio: Heard | None
) -> list[VideoSegment]:
    times = np.array(fr.times)  # (F,)
    probs = np.concatenate(fr.probs)  # (F, 1000)
    feats = np.concatenate(fr.features)  # (F, 1280)
    last = len(bounds) - 1
    out = []
    for i, (start, end) in enumerate(bounds):
        inside = (times >= start) & ((times < end) | (i == last))
        idx = np.flatnonzero(inside)
        if idx.size == 0:  # a window between two samples: its nearest earlier frame
            idx = np.array([max(0, int(np.searchsorted(times, start, "right")) - 1)])
        seg = VideoSegment(i, start, end, np.zeros(DIM, np.float32), {}, {})
        seg.features = feats[idx].mean(0)
        seen_probs = probs[idx].mean(0, keepdims=True)  # (1, 1000)
        seg.part_vectors[Part.SEEN] = space.image_bridge.bind(seen_probs)[0]
        seg.seen = space.image_bridge.top_labels(seen_probs)[0]
        seg.parts[Part.SEEN] = space.options.weight(Part.SEEN)
        if fr.thumbs:
            middle = idx[np.argmin(np.abs(times[idx] - (start + end) / 2))]
            seg.keyframe = Image.open(io.BytesIO(fr.thumbs[int(middle)]))
            seg.keyframe.load()
        if audio is not None:
            _hear(space, seg, audio, i == last)
        if fr.readings:
            _read(space, seg, [fr.readings[j] for j in idx])
        if fr.faces:
            _faces(space, seg, [fr.faces[j] for j in idx])
        out.append(seg)
    for part in (Part.SAID, Part.WRITTEN, Part.FACES):
        having = [s for s in out if getattr(s, part)]
        if having:
            vectors = space.text.encode([getattr(s, part) for s in having])  # (S, 384)
            for s, v in zip(having, vectors):
                s.part_vectors[part] = v
    for s in out:
        s.vector = mix(s.parts, s.part_vectors)
    return out


def _hear(space: SharedSpace, seg: VideoSegment, audio: Heard, last: bool) -> None:
    centers = np.arange(len(audio.patches)) * PATCH_SECONDS + PATCH_CENTER  # (P,)
    inside = (centers >= seg.start) & ((centers < seg.end) | last)
    if inside.any():
        scores = audio.patches[inside].mean(0, keepdims=True)  # (1, 521)
        seg.heard = space.sound_bridge.top_labels(scores)[0]
        seg.part_vectors[Part.HEARD] = space.sound_bridge.bind(scores)[0]
        seg.parts[Part.HEARD] = space.options.weight(Part.HEARD, seg.heard[0][1])
    words = [w for w in audio.words if seg.start <= (w.start + w.end) / 2 < seg.end or (
        last and (w.start + w.end) / 2 >= seg.end)]  # fmt: skip
    if words:
        seg.words = words
        seg.said = " ".join(w.text for w in words)
        confidence = float(np.mean([w.probability for w in words]))
        seg.parts[Part.SAID] = space.options.weight(Part.SAID, confidence)


def _read(space: SharedSpace, seg: VideoSegment, readings: list[Reading]) -> None:
    """The distinct lines read in a segment's frames, in order of first sight; weighted by
    the reader's mean confidence, like a still image's text."""
    lines: dict[str, float] = {}
    for r in readings:
        for text, score in r.lines:
            lines[text] = max(score, lines.get(text, 0.0))
    if lines:
        seg.written = "\n".join(lines)
        seg.parts[Part.WRITTEN] = space.options.weight(
            Part.WRITTEN, float(np.mean(list(lines.values())))
        )


def _faces(space: SharedSpace, seg: VideoSegment, readings: list[FaceReading]) -> None:
    """The faces of a segment: those of its frame that shows the most (a shot's faces come and
    go as people turn), in words, weighted by their detection score like a still image's."""
    best = max(readings, key=lambda r: (len(r.faces), r.confidence))
    if best.faces:
        seg.faces, seg.face_reading = best.text, best
        seg.parts[Part.FACES] = space.options.weight(Part.FACES, best.confidence)


def analyze(
    path: str | Path,
    space: SharedSpace,
    fps: float = 1.0,
    window: float = WINDOW,
    keyframes: bool = False,
    on_frame: Callable[[float], None] = lambda _: None,
    info: VideoInfo | None = None,
    ocr: bool | None = None,
    faces: bool | None = None,
) -> VideoAnalysis:
    """Decode, encode and segment one video. Raises ``DecodeError`` when no frame decodes.

    ``on_frame(t)`` is called as frames are decoded (for progress bars); ``info`` is the
    video's ``probe`` when the caller has it already. ``ocr`` and ``faces`` read text and
    find faces in the frames whatever the space's options say (None: as they say).
    """
    path = Path(path)
    info = info or probe(path)
    looks = _Looks(keyframes, space.options.ocr if ocr is None else ocr,
                   space.options.faces if faces is None else faces)  # fmt: skip
    fr = _encode_frames(space, path, fps, looks, on_frame)
    trim_heap()  # the decoder's and the image model's freed buffers, before Whisper loads
    notes: list[str] = []
    audio = _listen(space, info, notes)
    trim_heap()  # Whisper's, before the text encoder loads (the last, and largest, to load)
    seen_until = fr.times[-1] + 1.0 / fps
    truncated = bool(info.duration) and seen_until < info.duration - max(2.0, 2.0 / fps)
    if truncated:
        notes.append(f"truncated: frames stop at {fr.times[-1]:.1f} s of {info.duration:.1f} s")
    duration = min(info.duration, seen_until) if truncated else (info.duration or seen_until)
    if audio is not None and truncated:
        duration = max(duration, min(audio.duration, info.duration))
    bounds = cut_timeline(fr.cuts, duration, window)
    segments = _segments(space, bounds, fr, audio)
    spans = np.array([[s.end - s.start] for s in segments])  # (S, 1)
    vector = l2_normalize((spans * np.stack([s.vector for s in segments])).sum(0, keepdims=True))
    return VideoAnalysis(
        info, duration, segments, vector[0], audio.transcript if audio else None, truncated, notes
    )
