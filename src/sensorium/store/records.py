"""What a store keeps: one ``Item`` per searchable file, one ``Failure`` per unusable file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensorium.media.types import MediaKind

__all__ = ["Failure", "FileState", "Item"]


@dataclass
class Item:
    id: str  # stable key: a hash of the absolute path
    path: str  # absolute path, as text: bytes of a name that are not UTF-8 as \xHH (media.names)
    sha256: str
    size: int
    mtime: float
    kind: MediaKind  # a stored row's string is read as its MediaKind
    vector: np.ndarray  # (384,) in the shared space, L2-normalised
    duration: float = 0.0  # seconds, for audio and video
    width: int = 0  # pixels, for images
    height: int = 0
    labels: list[tuple[str, float]] = field(default_factory=list)  # best classes first
    transcript: str = ""
    segments: list[dict[str, Any]] = field(default_factory=list)  # {"start", "end", "text"}
    text: str = ""  # a text file's content (first 2,000 characters)
    features: np.ndarray | None = None  # raw encoder output: image (1280,), sound (521,)
    models: dict[str, str] = field(default_factory=dict)  # role -> model card
    ingested_at: float = 0.0
    # A video is stored as one item per segment (a moment); other files are segment 0.
    segment: int = 0
    start: float = 0.0  # seconds: the moment's span within a video (0, 0 for other files)
    end: float = 0.0
    heard: list[tuple[str, float]] = field(default_factory=list)  # a video's sound labels
    # What the vector mixes, each in the shared space: "seen" | "heard" | "said" -> (384,)
    part_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    # From a photo's EXIF (media/metadata.py): when it was taken (Unix seconds, 0 unknown)
    # and the camera ("Make Model", "" unknown).
    taken: float = 0.0
    camera: str = ""
    # What the file says of itself (XMP, IPTC: media/metadata.py): its title and description,
    # one a line; its keywords, then the names of the folders it sits in under the ingest's
    # root, outermost first. Both are matched as words; ``Filter.keyword`` picks a keyword.
    caption: str = ""
    keywords: list[str] = field(default_factory=list)
    # Where a photo was taken (EXIF or XMP GPS, degrees; None unknown) and the place there
    # (media/places.py: {"city", "region", "country", "country_code"}, and "locality" when
    # the nearest place is a district); the place's words are among ``keywords`` too.
    latitude: float | None = None
    longitude: float | None = None
    place: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kind = MediaKind(self.kind)  # a row's "image" -> MediaKind.IMAGE; others refused

    def to_json(self) -> dict[str, Any]:
        """Everything stored but the vectors (their sizes instead) and a moment's fields."""
        hidden = ("vector", "features", "part_vectors", "segment", "start", "end", "heard")
        data = {k: v for k, v in self.__dict__.items() if k not in hidden}
        data["vector_dim"] = len(self.vector)
        data["features_dim"] = 0 if self.features is None else len(self.features)
        return data

    def moment_json(self) -> dict[str, Any]:
        """A video moment: when, and what is seen, heard and said in it."""
        return {
            "id": self.id, "segment": self.segment, "start": round(self.start, 3),
            "end": round(self.end, 3), "seen": self.labels[:3], "heard": self.heard[:3],
            "said": self.transcript, "written": self.text, "parts": sorted(self.part_vectors),
        }  # fmt: skip


@dataclass(frozen=True)
class Failure:
    path: str
    size: int
    mtime: float
    error: str
    at: float


@dataclass(frozen=True)
class FileState:
    """What the store knows of a file, to decide whether it must be encoded again."""

    path: str
    size: int
    mtime: float
    sha256: str  # "" for a failure (its content was never accepted)
    failed: bool
    kind: str = ""
    models: dict[str, str] = field(default_factory=dict)  # role -> card, as for Item.models
