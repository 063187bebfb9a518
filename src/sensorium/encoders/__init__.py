"""Encoders, one file per modality: ``encode(batch) -> (N, D)`` float32, L2-normalised."""

from sensorium.encoders.base import Encoder
from sensorium.encoders.image import ImageEncoder
from sensorium.encoders.sound import SoundEncoder
from sensorium.encoders.speech import Segment, SpeechRecognizer, Transcript
from sensorium.encoders.text import TextEncoder

__all__ = [
    "Encoder",
    "ImageEncoder",
    "Segment",
    "SoundEncoder",
    "SpeechRecognizer",
    "TextEncoder",
    "Transcript",
]
