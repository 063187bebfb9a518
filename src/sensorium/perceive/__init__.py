"""Perception: zero-shot classification, transcription and reading (OCR) of files."""

from sensorium.perceive.classify import classify, iter_classify
from sensorium.perceive.read import iter_read, read
from sensorium.perceive.results import Classification, Reading, Transcription
from sensorium.perceive.transcribe import iter_transcribe, transcribe

__all__ = [
    "Classification",
    "Reading",
    "Transcription",
    "classify",
    "iter_classify",
    "iter_read",
    "iter_transcribe",
    "read",
    "transcribe",
]
