"""Result records shared by the perception functions: one per input, success or error."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sensorium.encoders import ocr
from sensorium.encoders.faces import FaceReading
from sensorium.encoders.speech import Transcript

__all__ = ["Classification", "Description", "Reading", "Transcription"]


@dataclass(frozen=True)
class Classification:
    path: str
    labels: list[tuple[str, float]] = field(default_factory=list)  # best first
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.error:
            return {"path": self.path, "error": self.error}
        return {
            "path": self.path,
            "labels": [{"label": lb, "score": round(s, 4)} for lb, s in self.labels],
        }


@dataclass(frozen=True)
class Transcription:
    path: str
    transcript: Transcript | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.error or self.transcript is None:
            return {"path": self.path, "error": self.error}
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

    def to_json(self) -> dict[str, Any]:
        if self.error or self.text is None:
            return {"path": self.path, "error": self.error}
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
    warnings: list[str] = field(default_factory=list)  # a part that failed (text not read)
    faces: FaceReading | None = None  # faces and expressions in an image, when looked for

    def to_json(self) -> dict[str, Any]:
        out = self._json()
        if self.faces is not None and not self.error:
            out["faces"] = self.faces.to_json()
        return out

    def _json(self) -> dict[str, Any]:
        if self.error:
            return {"path": self.path, "error": self.error}
        return {
            "path": self.path, "kind": self.kind,
            "labels": [{"label": lb, "score": round(s, 4)} for lb, s in self.labels],
            "caption": self.caption, "written": self.written, "said": self.said,
            **({"warnings": self.warnings} if self.warnings else {}),
        }  # fmt: skip
