"""Result records shared by the perception functions: one per input, success or error."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sensorium.encoders import ocr
from sensorium.encoders.faces import FaceReading
from sensorium.encoders.speech import Transcript

__all__ = ["Classification", "Description", "Reading", "Transcription"]

# Every result is one input's: its fields on success, or ``error`` (one line: what and why) and
# ``error_kind`` (``SensoriumError.kind``: "unsupported", "corrupt", "too_large", "missing",
# "unusable" for an input of the wrong kind), which the service maps to its HTTP status.


def _failed(path: str, error: str | None, kind: str | None) -> dict[str, Any]:
    return {"path": path, "error": error, "error_kind": kind or "unusable"}


@dataclass(frozen=True)
class Classification:
    path: str
    labels: list[tuple[str, float]] = field(default_factory=list)  # best first
    error: str | None = None
    error_kind: str | None = None  # SensoriumError.kind of the error

    def to_json(self) -> dict[str, Any]:
        if self.error:
            return _failed(self.path, self.error, self.error_kind)
        return {
            "path": self.path,
            "labels": [{"label": lb, "score": round(s, 4)} for lb, s in self.labels],
        }


@dataclass(frozen=True)
class Transcription:
    path: str
    transcript: Transcript | None = None
    error: str | None = None
    error_kind: str | None = None  # SensoriumError.kind of the error

    def to_json(self) -> dict[str, Any]:
        if self.error or self.transcript is None:
            return _failed(self.path, self.error, self.error_kind)
        t = self.transcript
        return {
            "path": self.path,
            "text": t.text,
            "language": t.language,
            "segments": [
                {k: v for k, v in asdict(s).items() if k != "words" or v} for s in t.segments
            ],
        }


@dataclass(frozen=True)
class Reading:
    path: str
    text: ocr.Reading | None = None  # what the image says in writing
    error: str | None = None
    error_kind: str | None = None  # SensoriumError.kind of the error

    def to_json(self) -> dict[str, Any]:
        if self.error or self.text is None:
            return _failed(self.path, self.error, self.error_kind)
        return {
            "path": self.path,
            "text": self.text.text,
            "confidence": round(self.text.confidence, 4),
            "lines": [{"text": t, "score": round(s, 4)} for t, s in self.text.lines],
        }


@dataclass(frozen=True)
class Description:
    """What a file shows or sounds like, in words; a part the file lacks is None."""

    path: str
    kind: str = ""
    labels: list[tuple[str, float]] = field(default_factory=list)  # the classifier's, best first
    caption: str | None = None  # a sentence from a captioning model (hub)
    written: str | None = None  # text read in an image
    said: str | None = None  # speech in a clip
    error: str | None = None
    error_kind: str | None = None  # SensoriumError.kind of the error
    warnings: list[str] = field(default_factory=list)  # a part that failed (text not read)
    faces: FaceReading | None = None  # faces and expressions in an image, when looked for

    def to_json(self) -> dict[str, Any]:
        out = self._json()
        if self.faces is not None and not self.error:
            out["faces"] = self.faces.to_json()
        return out

    def _json(self) -> dict[str, Any]:
        if self.error:
            return _failed(self.path, self.error, self.error_kind)
        return {
            "path": self.path, "kind": self.kind,
            "labels": [{"label": lb, "score": round(s, 4)} for lb, s in self.labels],
            "caption": self.caption, "written": self.written, "said": self.said,
            **({"warnings": self.warnings} if self.warnings else {}),
        }  # fmt: skip
