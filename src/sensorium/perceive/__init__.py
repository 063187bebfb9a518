"""Perception: zero-shot classification and transcription of files."""

from sensorium.perceive.classify import classify, iter_classify
from sensorium.perceive.results import Classification, Transcription
from sensorium.perceive.transcribe import iter_transcribe, transcribe

__all__ = [
    "Classification",
    "Transcription",
    "classify",
    "iter_classify",
    "iter_transcribe",
    "transcribe",
]
