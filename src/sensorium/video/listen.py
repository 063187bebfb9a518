"""A video's sound track, listened to in windows: memory does not grow with its length.

The track is decoded in blocks (``media.audio.audio_blocks``) and each block goes two ways:

- YAMNet reads 0.96 s patches every 0.48 s. The samples that the next patch still needs are
  carried into the next block, so the patch scores are those the whole track would give.
- Whisper reads windows of about ``WINDOW`` seconds, each cut at the quietest half second near
  its end (a pause between words, not a word), so no word is cut in two and none is heard
  twice. A window is transcribed only when YAMNet hears speech in it; its words and segments
  are moved to the video's time. The first window with speech sets the language for the rest
  (as Whisper over the whole track would: it detects the language once, at the start).

A track no longer than ``WINDOW + 2 * SEARCH`` seconds is one window: transcribed whole, as
a clip. The window left at the end is never shorter than ``SEARCH`` seconds, so it is never
taken for a clip of a word or two (``SpeechRecognizer``'s short path).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from sensorium.encoders.sound import MIN_SAMPLES, PATCH_SAMPLES
from sensorium.encoders.speech import Segment, Transcript, Word
from sensorium.errors import DecodeError, MediaTooLargeError
from sensorium.media.audio import audio_blocks
from sensorium.media.types import SAMPLE_RATE, AudioMedia
from sensorium.media.video import VideoInfo
from sensorium.space import SharedSpace
from sensorium.space.space import SPEECH_CLASS

__all__ = ["BLOCK", "SEARCH", "WINDOW", "Heard", "listen", "quiet_cut"]

BLOCK = 10.0  # seconds decoded at a time: YAMNet runs on about 20 patches (60 s: 100 MB more)
WINDOW = 60.0  # seconds: Whisper's window, before its cut
SEARCH = 10.0  # the cut is the quietest moment within this many seconds of WINDOW
QUIET = 0.5  # seconds: the span whose energy is compared to find the cut
STEP = 0.1  # seconds between candidate cuts
PATCH_SECONDS = PATCH_SAMPLES / SAMPLE_RATE  # 0.48 s between YAMNet patches
PATCH_CENTER = 0.48  # a 0.96 s patch's middle, from its start


@dataclass
class Heard:
    """What was heard in a track: sound events over time and the words said."""

    duration: float  # seconds of audio decoded
    patches: np.ndarray  # (P, 521) sound-event scores, PATCH_SECONDS apart
    words: list[Word] = field(default_factory=list)
    transcript: Transcript | None = None
    error: str | None = None  # decoding stopped here, in words; what came before is kept


def quiet_cut(samples: np.ndarray, lo: float, hi: float) -> int:
    """The sample index in [lo, hi] seconds at the middle of the quietest QUIET seconds (mean
    energy, in STEP steps): a pause to cut a window at."""
    step, span = round(STEP * SAMPLE_RATE), round(QUIET * SAMPLE_RATE)
    a = round(lo * SAMPLE_RATE) - span // 2
    steps = (round(hi * SAMPLE_RATE) + span // 2 - a) // step
    frames = samples[a : a + steps * step].reshape(steps, step)  # (S, 1600)
    energy = (frames.astype(np.float64) ** 2).mean(1)  # (S,)
    k = span // step
    spans = np.convolve(energy, np.ones(k) / k, mode="valid")  # (S - k + 1,) QUIET-long spans
    return a + int(np.argmin(spans)) * step + span // 2


class _Patches:
    """YAMNet over a stream: blocks in, patch scores out, the carried samples in between."""

    def __init__(self, space: SharedSpace) -> None:
        self.space = space
        self.carry = np.zeros(0, np.float32)
        self.scores: list[np.ndarray] = []  # (p, 521) per run
        self.count = 0

    def feed(self, block: np.ndarray) -> None:
        x = np.concatenate([self.carry, block])
        if len(x) < MIN_SAMPLES:
            self.carry = x
            return
        n = (len(x) - MIN_SAMPLES) // PATCH_SAMPLES + 1  # whole patches in x
        self._run(x[: (n - 1) * PATCH_SAMPLES + MIN_SAMPLES])
        self.carry = x[n * PATCH_SAMPLES :]

    def close(self) -> np.ndarray:
        if not self.count:  # a track shorter than one patch: zero-padded, as for a clip
            self._run(self.carry)
        return np.concatenate(self.scores)

    def _run(self, x: np.ndarray) -> None:
        scores = self.space.sound.run([AudioMedia("track", x)]).patch_scores[0]  # (p, 521)
        self.scores.append(scores)
        self.count += len(scores)

    def speech_peak(self, start: float, end: float) -> float:
        """The highest "Speech" score of the patches whose middle lies in [start, end) s."""
        first = max(0, int(np.ceil((start - PATCH_CENTER) / PATCH_SECONDS)))
        peak, seen = 0.0, 0
        for s in self.scores:
            lo, hi = max(first - seen, 0), len(s)
            centers = (seen + np.arange(lo, hi)) * PATCH_SECONDS + PATCH_CENTER
            inside = s[lo:hi][centers < end, SPEECH_CLASS]
            if inside.size:
                peak = max(peak, float(inside.max()))
            seen += len(s)
        return peak


def _shifted(t: Transcript, offset: float) -> list[Segment]:
    """A window's segments and words, timed from the start of the track."""

    def move(x: float) -> float:
        return round(x + offset, 2)

    return [dataclasses.replace(s, start=move(s.start), end=move(s.end), words=tuple(
        dataclasses.replace(w, start=move(w.start), end=move(w.end)) for w in s.words))
        for s in t.segments]  # fmt: skip


class _Said:
    """Whisper over a stream: blocks in, windows cut at pauses, segments out."""

    def __init__(self, space: SharedSpace, patches: _Patches, path: str) -> None:
        self.space, self.patches, self.path = space, patches, path
        self.pending: list[np.ndarray] = []
        self.held = 0  # samples pending
        self.offset = 0  # samples before the pending ones
        self.segments: list[Segment] = []
        self.language: str | None = None
        self.gated = False  # some window passed the speech gate

    def feed(self, block: np.ndarray) -> None:
        self.pending.append(block)
        self.held += len(block)
        while self.held >= (WINDOW + 2 * SEARCH) * SAMPLE_RATE:
            joined = np.concatenate(self.pending)
            cut = quiet_cut(joined, WINDOW - SEARCH, WINDOW + SEARCH)
            self._transcribe(joined[:cut], last=False)
            self.pending, self.held = [joined[cut:]], len(joined) - cut

    def close(self) -> None:
        if self.held:
            self._transcribe(np.concatenate(self.pending), last=True)
            self.pending, self.held = [], 0

    def _transcribe(self, window: np.ndarray, last: bool) -> None:
        start = self.offset / SAMPLE_RATE
        self.offset += len(window)
        # the last window also owns a padded patch that reaches past the end of the track
        peak = self.patches.speech_peak(start, np.inf if last else self.offset / SAMPLE_RATE)
        if peak < self.space.options.speech_gate:
            return
        self.gated = True
        t = self.space.speech.transcribe(
            AudioMedia(self.path, window), language=self.language, word_timestamps=True
        )
        if t.text:
            self.language = self.language or t.language
            self.segments += _shifted(t, start)

    @property
    def transcript(self) -> Transcript | None:
        """None when no window passed the speech gate (as for a clip that never does)."""
        if not self.gated:
            return None
        text = " ".join(s.text for s in self.segments)
        return Transcript(text, self.language or "", self.segments)


def listen(space: SharedSpace, info: VideoInfo, max_seconds: float) -> Heard:
    """Stream ``info``'s audio track through YAMNet and Whisper. Raises ``DecodeError`` when
    not one block decodes; a decoding error later keeps what came before it and says so in
    ``Heard.error``."""
    patches = _Patches(space)
    said = _Said(space, patches, info.path)
    decoded, error = 0, None
    try:
        for block in audio_blocks(info.path, BLOCK, max_seconds):
            patches.feed(block)  # first: the speech gate of a window needs its patches
            said.feed(block)
            decoded += len(block)
    except (DecodeError, MediaTooLargeError) as e:
        if not decoded:
            raise
        error = e.cause
    if not decoded:
        raise DecodeError(info.path, "no audio samples could be decoded")
    scores = patches.close()
    said.close()
    words = [w for s in said.segments for w in s.words]
    return Heard(decoded / SAMPLE_RATE, scores, words, said.transcript, error)
