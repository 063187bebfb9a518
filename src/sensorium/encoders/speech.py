"""Speech to text: faster-whisper (CTranslate2), gated by voice activity.

Silence, music and noise must give no text; a word said alone must give that word. Two paths:

- Most clips: Silero VAD (bundled with faster-whisper) keeps only speech regions; Whisper's own
  no-speech probability drops a segment it thinks is silent; a segment decoded with very low
  confidence is dropped, because that is what hallucinated text over music looks like.
- A word or two (a clip up to 10 s with at most 1.5 s of speech: a digit, a command): the
  whole-segment gates lose them (a one-word segment's mean log-probability is mostly its
  timestamp tokens) and the 30 s window costs more than the word. So: YAMNet must hear speech,
  the speech and a margin are decoded in a 10 s encoder window, a one-word segment is judged by
  its word, and each word must be likely enough and lie in the speech (``_words``).

Whisper runs in CTranslate2's int8 (``COMPUTE_TYPE``): 1.6-1.9x faster than float32 on 2 cores,
and ``tests/encoders/test_speech.py`` checks it against float32 where the tests run, because
int8 kernels differ per CPU.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.vad import VadOptions, get_speech_timestamps

from sensorium.encoders.base import ALL_CORES, Threads
from sensorium.errors import ModelError
from sensorium.media.types import SAMPLE_RATE, AudioMedia
from sensorium.models import get_card, is_ready, model_path

if TYPE_CHECKING:
    from sensorium.encoders.sound import SoundEncoder

__all__ = ["WHISPER_MODELS", "Segment", "SpeechRecognizer", "Transcript", "Word", "prepare_audio"]

# CLI names -> model cards.
WHISPER_MODELS = {"tiny.en": "whisper-tiny.en", "base": "whisper-base", "small": "whisper-small"}

PAD_SECONDS = 0.5  # silence around the clip: isolated short words decode better with room
MIN_LOGPROB = -1.0  # segments decoded less confidently than this are dropped
MAX_NO_SPEECH = 0.6  # ... and those Whisper itself thinks are silence
MAX_COMPRESSION = 2.4  # ... and those that repeat themselves (gzip ratio, Whisper's own test)
COMPUTE_TYPE = "int8"  # CTranslate2 weights and arithmetic (see SpeechRecognizer)
SHORT_SECONDS = 10  # a prepared clip up to this long is decoded in one short encoder window
SHORT_FRAMES = SHORT_SECONDS * 100  # that window in mel frames (10 ms each)
MAX_TOKENS_PER_SECOND = 8  # short clips: no more tokens than speech this long can hold
MIN_WORD_PROB = 0.02  # short clips: words less likely than this are dropped
SURE_WORD_PROB = 0.4  # short clips: a one-word segment with its word this likely is kept
WORD_SECONDS = 1.5  # short clips with no more speech than this hold a word or two
CLIP_MARGIN = 0.3  # seconds decoded before the first and after the last speech span
SPAN_SLACK = 0.2  # seconds a kept word may reach outside the VAD's speech
SPEECH_CLASS = 0  # "Speech" in YAMNet's class map
MIN_SPEECH_PEAK = 0.5  # short clips: YAMNet's "Speech" must reach this in some 0.96 s patch
ENGLISH_PRIOR = 0.5  # short clips: English when P(en) >= this share of the top language's


@dataclass(frozen=True)
class Word:
    start: float  # seconds from the start of the file
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the file
    end: float
    text: str
    confidence: float  # exp(mean token log-probability), in (0, 1]
    words: tuple[Word, ...] = ()  # only when asked for (``word_timestamps=True``)


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    segments: list[Segment] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        """Duration-weighted segment confidence; 0 for no speech."""
        if not self.segments:
            return 0.0
        spans = np.array([max(s.end - s.start, 1e-3) for s in self.segments])
        conf = np.array([s.confidence for s in self.segments])
        return float((spans * conf).sum() / spans.sum())


def prepare_audio(samples: np.ndarray) -> np.ndarray:
    """Peak-normalise quiet recordings and pad with silence. (T,) -> (T + 2 * pad,).

    Written into the padded array directly: an hour is 230 MB, and scaling, converting and
    joining held up to three more copies of it."""
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    pad = int(PAD_SECONDS * SAMPLE_RATE)
    out = np.zeros(len(samples) + 2 * pad, np.float32)
    middle = out[pad : pad + len(samples)]  # a view: the products land in ``out``
    if 0.0 < peak < 0.5:
        np.multiply(samples, 0.9 / peak, out=middle)
    else:
        middle[:] = samples
    return out


def _word(w, pad: float) -> Word:  # type: ignore[no-untyped-def]
    """A faster-whisper word, timed from the start of the unpadded clip."""
    start = round(max(0.0, float(w.start) - pad), 2)
    return Word(
        start, round(max(start, float(w.end) - pad), 2), w.word.strip(), float(w.probability)
    )


class _Whisper(WhisperModel):  # type: ignore[misc]
    """faster-whisper with a shorter encoder window for short clips and an encoder cache.

    Whisper's encoder always reads a 30 s window (3000 mel frames), which costs the same for a
    0.5 s word as for 30 s of speech. ``window`` (frames) cuts the padded window for a clip that
    fits in it. The cache lets language detection and the first decoding window share one
    encoder pass (faster-whisper encodes the same window once for each). One instance serves
    one call at a time.
    """

    window: int | None = None  # encoder frames for the current short clip; None: 3000
    _cache: tuple[tuple[np.ndarray, Any], ...] = ()  # (features, encoder output), newest first

    def encode(self, features: np.ndarray) -> Any:
        if self.window is not None:
            features = features[..., : self.window]  # (n_mels, frames) or (1, n_mels, frames)
        for seen, out in self._cache:
            if seen.shape == features.shape and np.array_equal(seen, features):
                return out
        out = super().encode(features)
        # two entries: a clip's short window and its 30 s window (language detection)
        self._cache = ((np.array(features, copy=True), out), *self._cache[:1])
        return out


def _load_whisper(
    name: str, compute_type: str = COMPUTE_TYPE, threads: Threads = ALL_CORES
) -> _Whisper:
    card = get_card(WHISPER_MODELS.get(name, name))
    if is_ready(card):
        source = str(model_path(card.name))
    elif card.hub and not card.offline:
        source = card.hub  # hub-only model: faster-whisper downloads it where a hub is reachable
    else:
        model_path(card.name)  # raises ModelNotInstalledError with the install hint
        raise AssertionError("unreachable")
    try:
        return _Whisper(
            source,
            device="cpu",
            compute_type=compute_type,
            cpu_threads=threads.resolve(os.cpu_count() or 1),
        )
    except Exception as e:  # CTranslate2 and the hub client raise many kinds
        raise ModelError(f"cannot load {card.name} from {source}: {e}") from e


def _speech_spans(samples: np.ndarray) -> list[tuple[float, float]]:
    """Silero VAD speech regions of a (T,) 16 kHz clip, in seconds."""
    opts = VadOptions(min_silence_duration_ms=300, speech_pad_ms=200)
    return [
        (c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE)
        for c in get_speech_timestamps(samples, opts)
    ]


class SpeechRecognizer:
    def __init__(
        self,
        model: str = "base",
        beam_size: int = 5,
        compute_type: str = COMPUTE_TYPE,
        short_clips: bool = True,
        threads: Threads = ALL_CORES,
    ) -> None:
        """``compute_type``: CTranslate2's ("int8", "float32"); ``short_clips=False`` decodes
        every clip in the 30 s window with whole-segment gates (the reference path)."""
        self.name = model
        self.short_clips = short_clips
        self.english_only = model.endswith(".en")
        self.beam_size = beam_size
        self.compute_type = compute_type
        self.model = _load_whisper(model, compute_type, threads)
        self.threads = threads
        self._sound: SoundEncoder | None = None  # loaded on the first short clip

    def transcribe(
        self,
        audio: AudioMedia,
        hint: str | None = None,
        language: str | None = None,
        prepare: bool = True,
        word_timestamps: bool = False,
    ) -> Transcript:
        """Transcribe one clip; ``hint`` lists expected words (names, jargon) for the decoder.

        ``prepare=False`` skips normalising and padding (the plain path, for benchmarks).
        ``word_timestamps`` times every word (video segments need them; it costs extra).
        """
        pad = PAD_SECONDS if prepare else 0.0
        samples = prepare_audio(audio.samples) if prepare else audio.samples
        spans = self._word_spans(samples)
        if spans:
            segments, lang = self._words(samples, spans, pad, audio.duration, hint, language)
        else:
            segments, lang = self._long(
                samples, pad, audio.duration, hint, language, word_timestamps
            )
        if not word_timestamps:
            segments = [dataclasses.replace(s, words=()) for s in segments]
        text = " ".join(s.text for s in segments)
        return Transcript(text=text, language=lang if text else "", segments=segments)

    def _long(self, samples, pad, duration, hint, language, word_timestamps):  # type: ignore[no-untyped-def]
        """Whole-segment gates over VAD-joined speech, in Whisper's 30 s window: the path for
        everything but a word or two."""
        self.model.window = None
        pieces, info = self.model.transcribe(
            samples,
            language="en" if self.english_only else language,
            beam_size=self.beam_size,
            vad_filter=True,
            vad_parameters={"min_silence_duration_ms": 300, "speech_pad_ms": 200},
            condition_on_previous_text=False,
            initial_prompt=hint or None,
            no_speech_threshold=MAX_NO_SPEECH,
            word_timestamps=word_timestamps,
        )
        segments = []
        for s in pieces:
            text = s.text.strip()
            if not text or s.no_speech_prob > MAX_NO_SPEECH or s.avg_logprob < MIN_LOGPROB:
                continue
            start = max(0.0, s.start - pad)
            end = min(duration, max(start, s.end - pad))
            words = tuple(_word(w, pad) for w in (s.words or []))
            segments.append(
                Segment(round(start, 2), round(end, 2), text, float(np.exp(s.avg_logprob)), words)
            )
        return segments, info.language

    def _word_spans(self, samples: np.ndarray) -> list[tuple[float, float]]:
        """The VAD's speech spans of a clip that holds a word or two (a short clip with no more
        than WORD_SECONDS of speech), else []: those go the word path (``_words``)."""
        if not self.short_clips or len(samples) > SHORT_SECONDS * SAMPLE_RATE:
            return []
        spans = _speech_spans(samples)
        return spans if 0 < sum(e - s for s, e in spans) <= WORD_SECONDS else []

    def _words(self, samples, spans, pad, duration, hint, language):  # type: ignore[no-untyped-def]
        """A word or two: one short encoder window over the speech the VAD found, YAMNet's word
        that it is speech, Whisper's segment gates, then word by word: a word is kept when it
        is likely enough and lies in that speech. ``(segments, language)``."""
        if self._speech_peak(samples) < MIN_SPEECH_PEAK:
            return [], ""
        self.model.window = SHORT_FRAMES
        # decode only the speech and a margin: the decoder invents words in long padding
        clip = (max(0.0, spans[0][0] - CLIP_MARGIN), spans[-1][1] + CLIP_MARGIN)
        lang = "en" if self.english_only else (language or self._detect(samples, clip))
        pieces, _ = self.model.transcribe(
            samples,
            language=lang,
            beam_size=self.beam_size,
            vad_filter=False,
            chunk_length=SHORT_SECONDS,
            condition_on_previous_text=False,
            initial_prompt=hint or None,
            temperature=0.0,
            max_new_tokens=int(MAX_TOKENS_PER_SECOND * len(samples) / SAMPLE_RATE) + 8,
            no_speech_threshold=MAX_NO_SPEECH,
            # a word said twice in a row here is the decoder looping (most often on a hint,
            # which reads to it like a list to go on with), not what was said
            no_repeat_ngram_size=1,
            word_timestamps=True,
            clip_timestamps=list(clip),
        )
        segments = []
        for s in pieces:
            if not _confident(s):
                continue
            words = [w for w in s.words or [] if _kept(w, spans)]
            text = "".join(w.word for w in words).strip()
            if not text:
                continue
            timed = tuple(_word(w, pad) for w in words)
            start, end = timed[0].start, min(duration, timed[-1].end)
            conf = float(np.exp(np.mean([np.log(max(w.probability, 1e-6)) for w in words])))
            segments.append(Segment(start, round(max(start, end), 2), text, conf, timed))
        return segments, lang

    def _speech_peak(self, samples: np.ndarray) -> float:
        """YAMNet's highest "Speech" score over the clip's patches: a second opinion on short
        sounds that Silero VAD takes for speech (a chimpanzee, a clinking bottle) and on which
        Whisper's own gates pass invented words. Real words score 0.9 and more."""
        if self._sound is None:
            from sensorium.encoders.sound import SoundEncoder

            self._sound = SoundEncoder(threads=self.threads)
        patches = self._sound.run([AudioMedia("clip", samples)]).patch_scores[0]  # (P, 521)
        return float(patches[:, SPEECH_CLASS].max())

    def _detect(self, samples: np.ndarray, clip: tuple[float, float]) -> str:
        """The language of a word or two. A word says little about its language (Whisper hears
        "nine" as German "nein"), so: English when the short window says so, else a look at the
        full 30 s window, English unless another language is clearly more likely. The short
        window is the one transcribe's first encoder pass reads (the encoder cache reuses it)."""
        fe = self.model.feature_extractor
        feats = fe(samples, chunk_length=SHORT_SECONDS)  # (n_mels, frames), as transcribe makes
        seek, content = round(clip[0] * 100), feats.shape[-1] - 1  # 100 frames a second
        size = min(fe.nb_max_frames, content - seek, min(round(clip[1] * 100), content) - seek)
        first = pad_or_trim(feats[:, seek : seek + size])  # (n_mels, 3000)
        lang = _english_first(self.model.detect_language(features=first)[2])
        if lang == "en":
            return lang
        window, self.model.window = self.model.window, None
        try:  # (n_mels, 3000): the window Whisper was trained on; one more encoder pass
            lang = _english_first(self.model.detect_language(features=pad_or_trim(first))[2])
        finally:
            self.model.window = window
        return lang


def _english_first(ranked: list[tuple[str, float]]) -> str:
    """The top language of Whisper's ranking, or English when it is nearly as likely."""
    top, p_top = ranked[0]
    return "en" if dict(ranked).get("en", 0.0) >= ENGLISH_PRIOR * p_top else top


def _confident(s: Any) -> bool:
    """A faster-whisper segment of a word or two worth reading word by word: not silence, not a
    repetition loop, and decoded confidently, or one word Whisper is sure of. A one-word
    segment's mean log-probability is mostly its timestamp and punctuation tokens (" 0." at
    -1.14 holds "0" at 0.58), so for one word the word's own probability decides."""
    words = s.words or []
    sure = len(words) == 1 and words[0].probability >= SURE_WORD_PROB
    return (
        s.no_speech_prob <= MAX_NO_SPEECH
        and s.compression_ratio <= MAX_COMPRESSION
        and (s.avg_logprob >= MIN_LOGPROB or sure)
    )


def _kept(w: Any, spans: list[tuple[float, float]]) -> bool:
    """A faster-whisper word worth keeping: confident, and overlapping a speech span."""
    if w.probability < MIN_WORD_PROB or w.end <= w.start:
        return False  # unsure, or given no time at all: a hint word repeated, not heard
    return any(w.start < e + SPAN_SLACK and w.end > s - SPAN_SLACK for s, e in spans)
