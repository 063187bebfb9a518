"""Perception: zero-shot classification, transcription, reading (OCR), description of files,
questions answered from what is perceived (``ask``) and support-ticket triage (``triage``)."""

from sensorium.perceive.ask import Answer, ask
from sensorium.perceive.classify import classify, iter_classify
from sensorium.perceive.describe import describe, iter_describe
from sensorium.perceive.read import iter_read, read
from sensorium.perceive.results import Classification, Description, Reading, Transcription
from sensorium.perceive.transcribe import iter_transcribe, transcribe
from sensorium.perceive.triage import Triage, triage

__all__ = [
    "Answer",
    "Classification",
    "Description",
    "Reading",
    "Transcription",
    "Triage",
    "ask",
    "classify",
    "describe",
    "iter_classify",
    "iter_describe",
    "iter_read",
    "iter_transcribe",
    "read",
    "transcribe",
    "triage",
]
