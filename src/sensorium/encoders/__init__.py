"""Encoders, one file per modality: ``encode(batch) -> (N, D)`` float32, L2-normalised.
``clip`` and ``clap`` are the hub image-text and audio-text models (``hub``: what they share)."""

from sensorium.encoders.base import Encoder
from sensorium.encoders.clap import ClapEncoder
from sensorium.encoders.clip import ClipEncoder
from sensorium.encoders.image import ImageEncoder
from sensorium.encoders.sound import SoundEncoder
from sensorium.encoders.speech import Segment, SpeechRecognizer, Transcript
from sensorium.encoders.text import TextEncoder

__all__ = [
    "ClapEncoder",
    "ClipEncoder",
    "Encoder",
    "ImageEncoder",
    "Segment",
    "SoundEncoder",
    "SpeechRecognizer",
    "TextEncoder",
    "Transcript",
]
