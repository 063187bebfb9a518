"""Speech to text: faster-whisper (CTranslate2), gated by voice activity.

Silence, music and noise must give no text; a word said alone must give that word. Two paths:

- Most clips: Silero VAD (bundled with faster-whisper) keeps only speech regions; Whisper's own
  no-speech probability drops a segment it thinks is silent; a segment decoded with very low
  confidence is dropped, because that is what hallucinated text over music looks like.
- A word or two (a clip up to 9 s with at most 1.5 s of what Silero takes for speech, none
  included: a digit, a command, an animal's call): the whole clip is decoded in a 10 s encoder
  window (the 30 s window costs more than the word), and kept only when two signals agree
  with a margin (``ShortClipGate``): YAMNet hears speech, and Whisper decoded it confidently
  and does not take it for silence.

Whisper runs in CTranslate2's int8 (``COMPUTE_TYPE``) for long clips: 1.6-1.9x faster than
float32 on 2 cores; ``tests/encoders/test_speech.py`` checks it against float32. Short clips
are decoded in float32, because int8 kernels differ per CPU and a word's gate sits on scores
that they move (a "9" once fell 0.005 below its limit on one CPU and passed on another); in
float32 the same kernels move the scores by at most 1e-4, and the features (``StableFeatures``)
are the same bits everywhere. ``scripts/cpu_matrix.py`` checks both across kernel families.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.feature_extractor import FeatureExtractor
from faster_whisper.vad import VadOptions, get_speech_timestamps, get_vad_model

from sensorium.encoders.base import ALL_CORES, Threads
from sensorium.encoders.sound import PATCH_SAMPLES
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
COMPUTE_TYPE = "int8"  # CTranslate2 weights and arithmetic for long clips (see SpeechRecognizer)
SHORT_COMPUTE_TYPE = "float32"  # ... for a word or two, whose gates sit on a margin
SHORT_SECONDS = 10  # a prepared clip up to this long is decoded in one short encoder window
SHORT_FRAMES = SHORT_SECONDS * 100  # that window in mel frames (10 ms each)
SHORT_PAD_SECONDS = 1.0  # silence around a word or two: "four" alone in 0.4 s decodes better
MAX_TOKENS_PER_SECOND = 8  # short clips: no more tokens than speech this long can hold
WORD_SECONDS = 1.5  # short clips with no more speech than this hold a word or two
SPEECH_CLASS = 0  # "Speech" in YAMNet's class map
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


@dataclass(frozen=True)
class ShortClipGate:
    """When a word or two decoded from a short clip is kept: YAMNet must hear speech, and
    Whisper must not take it for silence and must be confident, or, where YAMNet is sure of a
    voice and Whisper of sound (or YAMNet certain of a voice), fairly confident. Second signals
    stand in where one score fails on real words: a decode that is exactly one word of the
    user's hint stands in for YAMNet ("six" at 8 kHz is mostly a hiss: peak 0.16), and so does
    Silero VAD hearing a voice where Whisper is sure of sound and confident of its reading
    (no hint needed: a "4" at YAMNet 0.42, Silero 0.98, log-probability -0.74); YAMNet certain
    of a voice stands in for Whisper's no-speech probability (a bare "0" or "7" decodes at
    no-speech 0.69-0.75). Chosen on the development halves (spoken digits by three speakers,
    Asterisk's words, Tux Paint's 101 animal and object effects, with and without a hint):
    every margin on those clips is at least 100 times the 1e-4 that CPU kernels move float32
    scores by, and no effect passes more than two of the three voice limits (the bottle: Silero
    0.30). ``check`` says which limit decided and by how much."""

    min_speech_peak: float = 0.5  # YAMNet's "Speech" in some 0.96 s patch (real words: 0.9+)
    max_no_speech: float = 0.65  # Whisper's no-speech probability of the segment
    min_logprob: float = -1.1  # mean token log-probability of a segment
    sure_speech_peak: float = 0.85  # ... where YAMNet is this sure of a voice
    sure_no_speech: float = 0.45  # ... and Whisper's no-speech probability at most this
    sure_logprob: float = -1.4  # ... this confidence is enough
    # YAMNet certain of a voice (no effect scores above 0.85: the camel; words 0.98+): Whisper
    # may doubt it up to this no-speech probability, its reading at ``sure_logprob`` is enough
    # ("Three." at -1.17, no-speech 0.61), and a hint recited after it keeps the word heard first
    certain_speech_peak: float = 0.95
    certain_no_speech: float = 0.8
    # YAMNet hears no voice but Silero VAD does, in some 32 ms frame (effects: up to 0.92,
    # their decodes at no-speech 0.52+ or log-probability -1.12-): Whisper sure of sound and
    # confident of its reading stand in for YAMNet (words at 8 kHz: "2", "6", "8")
    voice_prob: float = 0.5
    voice_no_speech: float = 0.45
    voice_logprob: float = -1.0

    def check(self, speech_peak: float, no_speech: float, logprob: float,
              listed: bool = False, voice: float = 0.0) -> tuple[bool, str]:  # fmt: skip
        """(kept, why): the limit that decided, with the score and its margin. ``listed``:
        the decode is exactly one word of the hint; ``voice``: Silero's peak speech
        probability."""
        if speech_peak < self.min_speech_peak and not listed:
            return self._voice(speech_peak, no_speech, logprob, voice)
        certain = speech_peak >= self.certain_speech_peak
        top_no_speech = self.certain_no_speech if certain else self.max_no_speech
        if no_speech > top_no_speech:
            return False, f"no-speech {no_speech:.3f} > {top_no_speech}"
        if logprob >= self.min_logprob:
            return True, f"log-probability {logprob:.3f} >= {self.min_logprob}"
        sure = speech_peak >= self.sure_speech_peak and no_speech <= self.sure_no_speech
        if (sure or certain) and logprob >= self.sure_logprob:
            return True, (f"sure of a voice (peak {speech_peak:.3f}, no-speech {no_speech:.3f}):"
                          f" log-probability {logprob:.3f} >= {self.sure_logprob}")  # fmt: skip
        return False, f"log-probability {logprob:.3f} < {self.min_logprob}"

    def _voice(self, speech_peak: float, no_speech: float, logprob: float,
               voice: float) -> tuple[bool, str]:  # fmt: skip
        """YAMNet hears no voice: Silero's voice, Whisper sure of sound and confident, or not."""
        if voice < self.voice_prob:
            heard = f", voice {voice:.3f} < {self.voice_prob}" if voice else ""
            return False, f"speech peak {speech_peak:.3f} < {self.min_speech_peak}{heard}"
        if no_speech > self.voice_no_speech:
            return False, f"voice {voice:.3f}: no-speech {no_speech:.3f} > {self.voice_no_speech}"
        if logprob < self.voice_logprob:
            return False, f"voice {voice:.3f}: log-probability {logprob:.3f} < {self.voice_logprob}"
        return True, (f"voice {voice:.3f} >= {self.voice_prob}, no-speech {no_speech:.3f}, "
                      f"log-probability {logprob:.3f} >= {self.voice_logprob}")  # fmt: skip

    def margin(self, speech_peak: float, no_speech: float, logprob: float,
               listed: bool = False, voice: float = 0.0) -> float:  # fmt: skip
        """How far the scores are from the nearest limit that could change the decision."""
        limits = [self.max_no_speech - no_speech, logprob - self.min_logprob]
        if not listed:
            limits.append(speech_peak - self.min_speech_peak)
            if speech_peak < self.min_speech_peak:  # only Silero's voice can keep it
                limits += [voice - self.voice_prob, self.voice_no_speech - no_speech,
                           logprob - self.voice_logprob]  # fmt: skip
        if no_speech > self.max_no_speech:  # only YAMNet's certainty can keep it
            limits += [speech_peak - self.certain_speech_peak, self.certain_no_speech - no_speech]
        if speech_peak >= self.sure_speech_peak and no_speech <= self.sure_no_speech:
            limits += [speech_peak - self.sure_speech_peak, self.sure_no_speech - no_speech,
                       logprob - self.sure_logprob]  # fmt: skip
        if speech_peak >= self.certain_speech_peak and logprob < self.min_logprob:
            limits += [speech_peak - self.certain_speech_peak, logprob - self.sure_logprob]
        return min(abs(x) for x in limits)


SHORT_GATE = ShortClipGate()


def prepare_audio(samples: np.ndarray, pad_seconds: float = PAD_SECONDS) -> np.ndarray:
    """Peak-normalise quiet recordings and pad with silence. (T,) -> (T + 2 * pad,).

    Written into the padded array directly: an hour is 230 MB, and scaling, converting and
    joining held up to three more copies of it."""
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    pad = int(pad_seconds * SAMPLE_RATE)
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


class StableFeatures(FeatureExtractor):  # type: ignore[misc]
    """Whisper's log-mel spectrogram, the same bits on every CPU and thread count.

    faster-whisper computes ``mel_filters @ |STFT|^2`` and the log in float32, where OpenBLAS
    and numpy pick kernels per CPU (Haswell or SkylakeX GEMM, AVX2 or AVX-512 logs): 1-ulp
    differences that int8 Whisper turned into other words. Here the squares are exact in
    float64 and the sums and logs differ by ~1e-16, far below float32's rounding, so the
    features cast back to float32 are equal wherever they run."""

    def __call__(self, waveform: np.ndarray, padding: int = 160,
                 chunk_length: int | None = None) -> np.ndarray:  # fmt: skip
        if chunk_length is not None:
            self.n_samples = chunk_length * self.sampling_rate
            self.nb_max_frames = self.n_samples // self.hop_length
        waveform = np.pad(np.asarray(waveform, np.float32), (0, padding or 0))
        window = np.hanning(self.n_fft + 1)[:-1].astype(np.float32)
        stft = self.stft(waveform, self.n_fft, self.hop_length, window=window,
                         return_complex=True)[..., :-1]  # (n_fft/2 + 1, frames) fmt: skip
        power = stft.real.astype(np.float64) ** 2 + stft.imag.astype(np.float64) ** 2
        mel = self.mel_filters.astype(np.float64) @ power  # (n_mels, frames)
        log_spec = np.log10(np.maximum(mel, 1e-10))
        log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
        return ((log_spec + 4.0) / 4.0).astype(np.float32)


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feature_extractor = StableFeatures(**self.feat_kwargs)

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


def _voice_peak(samples: np.ndarray) -> float:
    """Silero VAD's highest speech probability over the 32 ms frames of a (T,) 16 kHz clip
    (padded as ``get_speech_timestamps`` pads it)."""
    frame = 512
    padded = np.pad(samples, (0, frame - len(samples) % frame))
    return float(np.max(get_vad_model()(padded)))


def _speech_spans(samples: np.ndarray) -> list[tuple[float, float]]:
    """Silero VAD speech regions of a (T,) 16 kHz clip, in seconds."""
    opts = VadOptions(min_silence_duration_ms=300, speech_pad_ms=200)
    return [
        (c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE)
        for c in get_speech_timestamps(samples, opts)
    ]


@dataclass(frozen=True)
class _Short:
    """A clip that fits the short window, as the short path reads it."""

    samples: np.ndarray  # (T,) prepared: normalised, SHORT_PAD_SECONDS of silence each side
    pad: float  # seconds of padding at the start
    spans: list[tuple[float, float]]  # Silero's speech, seconds in the clip's own time
    peak: float  # YAMNet's "Speech" (``SpeechRecognizer._speech_peak``)
    voice: float  # Silero's peak speech probability (``_voice_peak``); 0 where YAMNet hears one

    @property
    def is_word(self) -> bool:
        """A word or two: no more than WORD_SECONDS of speech, none included (Silero misses a
        0.3 s "two"; an animal's call it misses is for the gate to judge, not the long path
        to drop)."""
        return sum(e - s for s, e in self.spans) <= WORD_SECONDS


class SpeechRecognizer:
    def __init__(
        self,
        model: str = "base",
        beam_size: int = 5,
        compute_type: str = COMPUTE_TYPE,
        short_clips: bool = True,
        threads: Threads = ALL_CORES,
        gate: ShortClipGate = SHORT_GATE,
    ) -> None:
        """``compute_type``: CTranslate2's ("int8", "float32") for long clips;
        ``short_clips=False`` decodes every clip in the 30 s window with whole-segment gates
        (the reference path)."""
        self.name = model
        self.short_clips = short_clips
        self.english_only = model.endswith(".en")
        self.beam_size = beam_size
        self.compute_type = compute_type
        self.model = _load_whisper(model, compute_type, threads)
        self.threads = threads
        self.gate = gate
        self._short: _Whisper | None = None  # float32, loaded on the first short clip
        self._sound: SoundEncoder | None = None  # loaded on the first short clip

    @property
    def short_model(self) -> _Whisper:
        """The model short clips are decoded with: this one where it is float32 already."""
        if self.compute_type == SHORT_COMPUTE_TYPE:
            return self.model
        if self._short is None:
            self._short = _load_whisper(self.name, SHORT_COMPUTE_TYPE, self.threads)
        return self._short

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
        short = self._short_clip(audio.samples, prepare)
        if short is not None and short.is_word:
            segments, lang = self._words(audio, short, hint, language)
        elif short is not None and short.peak < self.gate.min_speech_peak:
            # Silero takes a chimpanzee's 2 s call for speech, and Whisper hears a sentence in
            # it: in a clip this short, YAMNet must hear a voice too
            segments, lang = [], ""
        else:
            pad = PAD_SECONDS if prepare else 0.0
            samples = prepare_audio(audio.samples) if prepare else audio.samples
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
            # the feature extractor keeps the last window it was asked for: a short clip's
            # 10 s would otherwise cut every later long clip into 10 s windows
            chunk_length=self.model.feature_extractor.chunk_length,
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

    def _short_clip(self, samples: np.ndarray, prepare: bool) -> _Short | None:
        """A clip that fits the short window with its padding (9 s or less), prepared, with
        Silero's speech in it and YAMNet's word on it; None for a longer clip."""
        pad = SHORT_PAD_SECONDS if prepare else 0.0
        if not self.short_clips or len(samples) + 2 * pad * SAMPLE_RATE > SHORT_FRAMES * 160:
            return None  # (160 samples a mel frame)
        prepared = prepare_audio(samples, pad) if prepare else samples
        spans = [(a - pad, b - pad) for a, b in _speech_spans(prepared)]
        peak = self._speech_peak(prepared)
        voice = _voice_peak(prepared) if peak < self.gate.min_speech_peak else 0.0
        return _Short(prepared, pad, spans, peak, voice)

    def _words(self, audio: AudioMedia, short: _Short, hint, language):  # type: ignore[no-untyped-def]
        """A word or two: YAMNet's word that it is speech, then the whole clip decoded in float32
        in one short encoder window, each segment kept by the gate. ``(segments, language)``."""
        samples, pad, spans, peak = short.samples, short.pad, short.spans, short.peak
        if peak < self.gate.min_speech_peak and not hint and short.voice < self.gate.voice_prob:
            return [], ""  # (a listed word or Silero's voice may stand in for YAMNet: decode)
        pieces, lang = self._decode_short(samples, hint, language)
        # A word or two is one segment. With a hint, the decoder often adds a second one
        # ("zero" at log-probability -0.3, then "Pro" at -1.2; "seven" at -0.19, then "Thank
        # you." at -1.24): the one Whisper decoded most confidently is kept. (Their no-speech
        # probabilities can lie within 0.01 of each other: 0.421 and 0.409.)
        pieces = sorted(pieces, key=lambda p: -p.avg_logprob)[:1]
        segments = []
        for s in pieces:
            # a word given no time at all is a hint word repeated, not heard
            words = [w for w in s.words or [] if w.end > w.start]
            text = "".join(w.word for w in words).strip()
            listed = _is_listed(text, hint)
            kept, _ = self.gate.check(peak, s.no_speech_prob, s.avg_logprob, listed, short.voice)
            if not kept or not text or s.compression_ratio > MAX_COMPRESSION:
                continue
            if _recites(text, hint):
                # the decoder going on with the hint as with a list: over a voice YAMNet is
                # certain of, after the word it heard ("seven eight nine" for "seven", 4 of 4
                # on the dev digits); over anything else (a camel's groan), after nothing
                if peak < self.gate.certain_speech_peak:
                    continue
                words = words[:1]
                text = words[0].word.strip()
            # Whisper times a word that follows seconds of silence too early: moved into the
            # speech that Silero heard
            timed = _within(tuple(_word(w, pad) for w in words), spans)
            start, end = timed[0].start, min(audio.duration, timed[-1].end)
            segments.append(Segment(start, round(max(start, end), 2), text,
                                    float(np.exp(s.avg_logprob)), timed))  # fmt: skip
        return segments, lang

    def _decode_short(self, samples: np.ndarray, hint: str | None,
                      language: str | None) -> tuple[list[Any], str]:  # fmt: skip
        """A prepared short clip decoded whole, in float32 and the short window, no gates."""
        model = self.short_model
        model.window = SHORT_FRAMES
        lang = "en" if self.english_only else (language or self._detect(model, samples))
        pieces, _ = model.transcribe(
            samples,
            language=lang,
            beam_size=self.beam_size,
            vad_filter=False,
            chunk_length=SHORT_SECONDS,
            condition_on_previous_text=False,
            initial_prompt=hint or None,
            temperature=0.0,
            max_new_tokens=int(MAX_TOKENS_PER_SECOND * len(samples) / SAMPLE_RATE) + 8,
            no_speech_threshold=None,  # the gate judges no-speech with the other scores
            log_prob_threshold=None,
            # a word said twice in a row here is the decoder looping (most often on a hint,
            # which reads to it like a list to go on with), not what was said
            no_repeat_ngram_size=1,
            word_timestamps=True,
        )
        return list(pieces), lang

    def short_clip_scores(self, audio: AudioMedia, hint: str | None = None) -> list[dict[str, Any]]:
        """The gate's scores of each segment of a short clip, with the decision, why, and its
        margin: what tests print beside an outcome they assert."""
        short = self._short_clip(audio.samples, prepare=True)
        if short is None:
            raise ValueError(f"{audio.path} is too long for the short path")
        peak = short.peak
        pieces, _ = self._decode_short(short.samples, hint, None)
        out = []
        for s in pieces:
            listed = _is_listed(s.text, hint)
            scores = (peak, s.no_speech_prob, s.avg_logprob, listed, short.voice)
            kept, why = self.gate.check(*scores)
            margin = self.gate.margin(*scores)
            out.append({"text": s.text.strip(), "speech_peak": peak, "voice": short.voice,
                        "kept": kept, "why": why,
                        "no_speech": s.no_speech_prob, "logprob": s.avg_logprob,
                        "margin": margin})  # fmt: skip
        return out

    def _speech_peak(self, samples: np.ndarray) -> float:
        """YAMNet's "Speech" score of a short clip: the highest over its 0.96 s patches, and of
        that the lower of two framings a half patch step apart. A second opinion on sounds that
        Silero VAD takes for speech (a chimpanzee, a clinking bottle) and in which Whisper
        hears words. One framing is not enough: a goat's 0.7 s bleat scored 0.02 or 0.85 as
        the padding moved it within a patch; real words score 0.9 and more in both."""
        if self._sound is None:
            from sensorium.encoders.sound import SoundEncoder

            self._sound = SoundEncoder(threads=self.threads)
        shift = np.zeros(PATCH_SAMPLES // 2, np.float32)  # half of the 0.48 s patch step
        moved = np.concatenate([shift, samples])
        clips = [AudioMedia("clip", samples), AudioMedia("shifted", moved)]
        scores = self._sound.run(clips).patch_scores  # per clip (P, 521)
        return float(min(patches[:, SPEECH_CLASS].max() for patches in scores))

    def _detect(self, model: _Whisper, samples: np.ndarray) -> str:
        """The language of a word or two. A word says little about its language (Whisper hears
        "nine" as German "nein"), so: English when the short window says so, else a look at the
        full 30 s window, English unless another language is clearly more likely."""
        feats = model.feature_extractor(samples, chunk_length=SHORT_SECONDS)  # (n_mels, frames)
        # the frames faster-whisper decodes (it drops the last one), so that decoding finds
        # this window's encoder output in the cache instead of encoding it again
        content = min(feats.shape[-1] - 1, model.feature_extractor.nb_max_frames)
        first = pad_or_trim(feats[:, :content])  # (n_mels, 3000)
        lang = _english_first(model.detect_language(features=first)[2])
        if lang == "en":
            return lang
        window, model.window = model.window, None
        try:  # (n_mels, 3000): the window Whisper was trained on; one more encoder pass
            lang = _english_first(model.detect_language(features=first)[2])
        finally:
            model.window = window
        return lang


def _within(words: tuple[Word, ...], spans: list[tuple[float, float]]) -> tuple[Word, ...]:
    """Words whose times are clamped into the VAD's speech (none found: as they are)."""
    if not spans:
        return words
    lo, hi = spans[0][0], spans[-1][1]

    def clamp(t: float) -> float:
        return round(min(max(t, lo), hi), 2)

    return tuple(dataclasses.replace(w, start=clamp(w.start), end=max(clamp(w.end), clamp(w.start)))
                 for w in words)  # fmt: skip


def _recites(text: str, hint: str | None) -> bool:
    """Whether ``text`` recites the hint: three or more of its words, all in its order ("four
    five six seven eight nine"). That is the decoder going on with a list, which it does over
    a camel's groan; a word or two of it is what someone said."""
    said, listed = _tokens(text), _tokens(hint or "")
    if len(said) < 3 or not set(said) <= set(listed):
        return False
    where = [listed.index(w) for w in said]
    return all(a < b for a, b in itertools.pairwise(where))


def _is_listed(text: str, hint: str | None) -> bool:
    """Whether ``text`` is exactly one word of the hint ("Six." for "zero one ... nine")."""
    said = _tokens(text)
    return len(said) == 1 and said[0] in _tokens(hint or "")


def _tokens(text: str) -> list[str]:
    """Lower-case words of ``text``, punctuation aside."""
    return re.findall(r"[^\W_]+(?:'[^\W_]+)?", text.lower())


def _english_first(ranked: list[tuple[str, float]]) -> str:
    """The top language of Whisper's ranking, or English when it is nearly as likely."""
    top, p_top = ranked[0]
    return "en" if dict(ranked).get("en", 0.0) >= ENGLISH_PRIOR * p_top else top
