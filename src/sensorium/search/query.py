"""Queries: any of text, image and audio, each with a weight, plus metadata filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sensorium import media
from sensorium.errors import MediaError, UsageError
from sensorium.space import SharedSpace

__all__ = [
    "KINDS",
    "TARGETS",
    "Query",
    "QueryPart",
    "embed_query",
    "filter_clause",
    "parse_target",
    "parse_weights",
    "where_clause",
]

KINDS = ("image", "audio", "video", "text")
MODALITIES = ("text", "image", "audio")
TARGETS = ("seen", "heard", "said")  # which part of an item a text query is about

# "where does she say budget" -> ("said", "budget"). Verbs that name what a query is about,
# with the question words around them that carry no content.
_ASKING = (
    r"(?:(?:where|when|what|which)\s+)?(?:(?:do|does|did|is|are|was|were)\s+)?"
    r"(?:(?:he|she|they|someone|somebody|anyone|people|we|you|i|it)\s+)?"
)
_TARGET_VERBS = {
    "said": r"say|says|said|saying|mention|mentions|mentioned|talk about|talks about|"
    r"speak about|speaks about|spoken|speaks of|talk of",
    "heard": r"hear|hears|heard|hearing|sound of|sounds of|sounds like|noise of",
    "seen": r"see|sees|seen|show|shows|shown|showing|appear|appears|on screen|look at",
}


def parse_target(text: str) -> tuple[str | None, str]:
    """A text query -> (the part it asks about or None, the query without the asking words).

    "where does she say budget" -> ("said", "budget"); "where is a dog shown" -> ("seen",
    "a dog"); "a dog on a beach" -> (None, "a dog on a beach").
    """
    for target, verbs in _TARGET_VERBS.items():
        m = re.match(rf"\s*{_ASKING}(?:{verbs})\b[\s:,]*(.*)$", text, re.IGNORECASE)
        if m is None:  # the passive: "where is a dog shown"
            m = re.match(rf"\s*(?:where|when)\s+(?:is|are|was|were)\s+(.*?)\s+(?:{verbs})\W*$",
                         text, re.IGNORECASE)  # fmt: skip
        if m and m.group(1).strip().rstrip("?").strip():
            return target, m.group(1).strip().rstrip("?").strip()
    return None, text


@dataclass(frozen=True)
class Query:
    text: str | None = None
    image: Path | None = None
    audio: Path | None = None
    weights: dict[str, float] = field(default_factory=dict)  # modality -> weight (default 1)
    kind: str | None = None  # only items of this media type
    path: str | None = None  # only items whose path matches this glob
    target: str | None = None  # "seen" | "heard" | "said": score the text against that part

    def __post_init__(self) -> None:
        if not (self.text or self.image or self.audio):
            raise UsageError("give a text query, --image or --audio")
        if self.kind is not None and self.kind not in KINDS:
            raise UsageError(f"--type must be one of {', '.join(KINDS)}")
        if self.target is not None and self.target not in TARGETS:
            raise UsageError(f"--in must be one of {', '.join(TARGETS)}")
        if self.target is not None and not self.text:
            raise UsageError("--in needs a text query")
        for name, w in self.weights.items():
            if name not in MODALITIES or w < 0:
                raise UsageError(f"bad weight {name}={w}: use text, image, audio >= 0")


@dataclass(frozen=True)
class QueryPart:
    vector: np.ndarray  # (384,)
    weight: float
    labels: list[tuple[str, float]]  # what the query medium was recognised as (empty for text)


def parse_weights(spec: str | None) -> dict[str, float]:
    """ "text=1,image=0.5" -> {"text": 1.0, "image": 0.5}."""
    out: dict[str, float] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value) if sep else float("nan")
        except ValueError:
            raise UsageError(f"bad weight {part!r}: write name=number") from None
        if out[name.strip()] != out[name.strip()]:
            raise UsageError(f"bad weight {part!r}: write name=number")
    return out


def embed_query(space: SharedSpace, query: Query) -> dict[str, QueryPart]:
    """Each given query modality -> its vector in the shared space and its weight."""
    parts: dict[str, QueryPart] = {}
    weight = lambda name: query.weights.get(name, 1.0)  # noqa: E731
    if query.text:
        parts["text"] = QueryPart(space.text.encode([query.text])[0], weight("text"), [])
    for name, path in (("image", query.image), ("audio", query.audio)):
        if path is None:
            continue
        try:
            (e,) = space.embed([media.load(path)])
        except MediaError as err:  # keeps its kind: unsupported, corrupt, too large
            raise type(err)(err.path, f"the query {name}: {err.cause}") from err
        parts[name] = QueryPart(e.vector, weight(name), e.labels)
    if sum(p.weight for p in parts.values()) <= 0:
        raise UsageError("the weights of the given query parts are all zero")
    return parts


def _like(glob: str) -> str:
    """A shell glob -> an SQL LIKE pattern on absolute paths (relative globs match anywhere)."""
    escaped = glob.replace("'", "''").replace("%", r"\%").replace("_", r"\_")
    pattern = escaped.replace("**", "*").replace("*", "%").replace("?", "_")
    return pattern if pattern.startswith(("/", "%")) else "%" + pattern


def filter_clause(kind: str | None = None, path: str | None = None) -> str | None:
    """Only items of media type ``kind`` whose path matches the glob ``path``."""
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--type must be one of {', '.join(KINDS)}")
    clauses = []
    if kind:
        clauses.append(f"kind = '{kind}'")
    if path:
        clauses.append(f"path LIKE '{_like(path)}' ESCAPE '\\'")
    return " AND ".join(clauses) or None


def where_clause(query: Query) -> str | None:
    return filter_clause(query.kind, query.path)
