"""Speech to text: faster-whisper (CTranslate2), gated by voice activity.

Silence, music and noise must give no text. Three gates, cheapest first: Silero VAD (bundled
with faster-whisper) keeps only speech regions; Whisper's own no-speech probability drops a
segment it thinks is silent; and a segment decoded with very low confidence is dropped,
because that is what hallucinated text over music looks like.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from sensorium.errors import ModelError
from sensorium.media.types import SAMPLE_RATE, AudioMedia
from sensorium.models import get_card, is_ready, model_path

__all__ = ["WHISPER_MODELS", "Segment", "SpeechRecognizer", "Transcript", "Word", "prepare_audio"]

# CLI names -> model cards.
WHISPER_MODELS = {"tiny.en": "whisper-tiny.en", "base": "whisper-base", "small": "whisper-small"}

PAD_SECONDS = 0.5  # silence around the clip: isolated short words decode better with room
MIN_LOGPROB = -1.0  # segments decoded less confidently than this are dropped
MAX_NO_SPEECH = 0.6  # ... and those Whisper itself thinks are silence


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
    """Peak-normalise quiet recordings and pad with silence. (T,) -> (T + 2 * pad,)."""
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if 0.0 < peak < 0.5:
        samples = samples * (0.9 / peak)
    pad = np.zeros(int(PAD_SECONDS * SAMPLE_RATE), np.float32)
    return np.concatenate([pad, samples.astype(np.float32), pad])


def _word(w, pad: float) -> Word:  # type: ignore[no-untyped-def]
    """A faster-whisper word, timed from the start of the unpadded clip."""
    start = round(max(0.0, float(w.start) - pad), 2)
    return Word(
        start, round(max(start, float(w.end) - pad), 2), w.word.strip(), float(w.probability)
    )


def _load_whisper(name: str):  # type: ignore[no-untyped-def]
    from faster_whisper import WhisperModel

    card = get_card(WHISPER_MODELS.get(name, name))
    threads = int(os.environ.get("SENSORIUM_THREADS", "0")) or (os.cpu_count() or 1)
    if is_ready(card):
        source = str(model_path(card.name))
    elif card.hub and not card.offline:
        source = card.hub  # hub-only model: faster-whisper downloads it where a hub is reachable
    else:
        return model_path(card.name)  # raises ModelNotInstalledError with the install hint
    try:
        return WhisperModel(source, device="cpu", compute_type="int8", cpu_threads=threads)
    except Exception as e:  # CTranslate2 and the hub client raise many kinds
        raise ModelError(f"cannot load {card.name} from {source}: {e}") from e


class SpeechRecognizer:
    def __init__(self, model: str = "base", beam_size: int = 5) -> None:
        self.name = model
        self.english_only = model.endswith(".en")
        self.beam_size = beam_size
        self.model = _load_whisper(model)

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
            end = min(audio.duration, max(start, s.end - pad))
            words = tuple(_word(w, pad) for w in (s.words or []))
            segments.append(
                Segment(round(start, 2), round(end, 2), text, float(np.exp(s.avg_logprob)), words)
            )
        text = " ".join(s.text for s in segments)
        return Transcript(text=text, language=info.language if text else "", segments=segments)
