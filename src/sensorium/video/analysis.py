"""One video -> timed segments in the shared space: what is seen, heard and said in each.

Frames are streamed and encoded in batches (memory does not grow with length); the audio
track goes through the sound encoder and, when it holds speech, through the recogniser with
word timestamps. The timeline is cut at shots (or windows), and each segment gets

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

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from sensorium.encoders.base import l2_normalize
from sensorium.encoders.faces import FaceReading
from sensorium.encoders.ocr import Reading
from sensorium.encoders.sound import PATCH_SAMPLES
from sensorium.encoders.speech import Transcript, Word
from sensorium.errors import DecodeError
from sensorium.media.audio import load_audio
from sensorium.media.types import SAMPLE_RATE, ImageMedia
from sensorium.media.video import VideoInfo, frames, probe
from sensorium.space import DIM, SharedSpace
from sensorium.space.space import SPEECH_CLASS
from sensorium.video.segments import WINDOW, cut_timeline

__all__ = ["VideoAnalysis", "VideoSegment", "analyze"]

FRAME_BATCH = 32  # frames encoded at once
KEYFRAME_SIDE = 160  # thumbnails kept for contact sheets
PATCH_SECONDS = PATCH_SAMPLES / SAMPLE_RATE  # 0.48 s between sound patches
PATCH_CENTER = 0.48  # a 0.96 s patch's middle, from its start


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
    thumbs: list[Image.Image] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)  # per frame, with SpaceOptions.ocr
    faces: list[FaceReading] = field(default_factory=list)  # per frame, with SpaceOptions.faces


def _encode_frames(
    space: SharedSpace, path: Path, fps: float, keyframes: bool, on_frame: Callable[[float], None]
) -> _Frames:
    out = _Frames()
    pending: list[ImageMedia] = []

    def flush() -> None:
        if pending:
            result = space.image.run(pending)
            out.probs.append(result.probs)
            out.features.append(result.features)
            if space.options.ocr:
                out.readings += space.reader.read(pending)
            if space.options.faces:
                out.faces += space.face_reader.read(pending)
            pending.clear()

    for f in frames(path, fps=fps):
        out.times.append(f.time)
        if f.cut:
            out.cuts.append(f.time)
        if keyframes:
            thumb = f.image.copy()
            thumb.thumbnail((KEYFRAME_SIDE, KEYFRAME_SIDE))
            out.thumbs.append(thumb)
        pending.append(ImageMedia(str(path), f.image, f.image.width, f.image.height))
        if len(pending) == FRAME_BATCH:
            flush()
        on_frame(f.time)
    flush()
    return out


@dataclass
class _Audio:
    duration: float
    patches: np.ndarray  # (P, 521) sound-event scores, PATCH_SECONDS apart
    words: list[Word]
    transcript: Transcript | None


def _listen(space: SharedSpace, info: VideoInfo, notes: list[str]) -> _Audio | None:
    if not info.has_audio:
        notes.append("no audio track")
        return None
    try:
        audio = load_audio(info.path)
    except DecodeError as e:
        notes.append(f"audio track unreadable: {e.cause}")
        return None
    patches = space.sound.run([audio]).patch_scores[0]  # (P, 521)
    transcript, words = None, []
    if float(patches[:, SPEECH_CLASS].max()) >= space.options.speech_gate:
        transcript = space.speech.transcribe(audio, word_timestamps=True)
        words = [w for s in transcript.segments for w in s.words]
    return _Audio(audio.duration, patches, words, transcript)


def _mix(parts: dict[str, float], vectors: dict[str, np.ndarray]) -> np.ndarray:
    total = sum(parts[k] * vectors[k] for k in parts)
    return l2_normalize(np.asarray(total, np.float32)[None])[0]


def _segments(
    space: SharedSpace, bounds: list[tuple[float, float]], fr: _Frames, audio: _Audio | None
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
        seg.part_vectors["seen"] = space.image_bridge.bind(seen_probs)[0]
        seg.seen = space.image_bridge.top_labels(seen_probs)[0]
        seg.parts["seen"] = 1.0
        if fr.thumbs:
            middle = idx[np.argmin(np.abs(times[idx] - (start + end) / 2))]
            seg.keyframe = fr.thumbs[int(middle)]
        if audio is not None:
            _hear(space, seg, audio, i == last)
        if fr.readings:
            _read(space, seg, [fr.readings[j] for j in idx])
        if fr.faces:
            _faces(space, seg, [fr.faces[j] for j in idx])
        out.append(seg)
    for part in ("said", "written", "faces"):
        having = [s for s in out if getattr(s, part)]
        if having:
            vectors = space.text.encode([getattr(s, part) for s in having])  # (S, 384)
            for s, v in zip(having, vectors):
                s.part_vectors[part] = v
    for s in out:
        s.vector = _mix(s.parts, s.part_vectors)
    return out


def _hear(space: SharedSpace, seg: VideoSegment, audio: _Audio, last: bool) -> None:
    centers = np.arange(len(audio.patches)) * PATCH_SECONDS + PATCH_CENTER  # (P,)
    inside = (centers >= seg.start) & ((centers < seg.end) | last)
    if inside.any():
        scores = audio.patches[inside].mean(0, keepdims=True)  # (1, 521)
        seg.heard = space.sound_bridge.top_labels(scores)[0]
        seg.part_vectors["heard"] = space.sound_bridge.bind(scores)[0]
        seg.parts["heard"] = max(seg.heard[0][1], 1e-3)
    words = [w for w in audio.words if seg.start <= (w.start + w.end) / 2 < seg.end or (
        last and (w.start + w.end) / 2 >= seg.end)]  # fmt: skip
    if words:
        seg.words = words
        seg.said = " ".join(w.text for w in words)
        confidence = float(np.mean([w.probability for w in words]))
        seg.parts["said"] = space.options.transcript_weight * confidence


def _read(space: SharedSpace, seg: VideoSegment, readings: list[Reading]) -> None:
    """The distinct lines read in a segment's frames, in order of first sight; weighted by
    the reader's mean confidence, like a still image's text."""
    lines: dict[str, float] = {}
    for r in readings:
        for text, score in r.lines:
            lines[text] = max(score, lines.get(text, 0.0))
    if lines:
        seg.written = "\n".join(lines)
        seg.parts["written"] = space.options.ocr_weight * float(np.mean(list(lines.values())))


def _faces(space: SharedSpace, seg: VideoSegment, readings: list[FaceReading]) -> None:
    """The faces of a segment: those of its frame that shows the most (a shot's faces come and
    go as people turn), in words, weighted by their detection score like a still image's."""
    best = max(readings, key=lambda r: (len(r.faces), r.confidence))
    if best.faces:
        seg.faces = best.text
        seg.parts["faces"] = space.options.faces_weight * best.confidence


def analyze(
    path: str | Path,
    space: SharedSpace,
    fps: float = 1.0,
    window: float = WINDOW,
    keyframes: bool = False,
    on_frame: Callable[[float], None] = lambda _: None,
    info: VideoInfo | None = None,
) -> VideoAnalysis:
    """Decode, encode and segment one video. Raises ``DecodeError`` when no frame decodes.

    ``on_frame(t)`` is called as frames are decoded (for progress bars); ``info`` is the
    video's ``probe`` when the caller has it already.
    """
    path = Path(path)
    info = info or probe(path)
    fr = _encode_frames(space, path, fps, keyframes, on_frame)
    notes: list[str] = []
    audio = _listen(space, info, notes)
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
