"""Queries: any of text, image and audio, each with a weight, plus metadata filters."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sensorium import media
from sensorium.errors import MediaError, UnsupportedMediaError, UsageError
from sensorium.media.types import MediaKind
from sensorium.space import SharedSpace
from sensorium.store.base import KINDS, Filter, _like
from sensorium.store.records import Item

__all__ = [
    "KINDS",
    "PERSON_ONLY",
    "QUERY_MEDIA",
    "STOP_WORDS",
    "TARGETS",
    "WORD",
    "Query",
    "QueryPart",
    "_like",
    "embed_query",
    "fold",
    "keyword_terms",
    "parse_negatives",
    "parse_target",
    "parse_weights",
    "tokens",
    "where_clause",
]

# The text of a query that names a person and no words (``person:Alice``): every file that
# person is seen in, those where a person shows most first, none of them weak.
PERSON_ONLY = "a person"

QUERY_MEDIA = (MediaKind.IMAGE, MediaKind.AUDIO)  # the files a query can be given
# The parts of a query, each with a weight: its text, its files (``QUERY_MEDIA``), and an
# item of the collection ("like")
MODALITIES = (MediaKind.TEXT.value, *(k.value for k in QUERY_MEDIA), "like")
TARGETS = ("seen", "heard", "said", "written")  # which part of an item a text query is about

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


# Words a keyword query leaves out when it holds others: a BM25 score counts them a little
# in every text that has them, which lifts texts (and transcripts) that share only "the" and
# "on" with "a dog on the beach" over the photos the query is about. The keyword indices
# keep them, so a query of nothing else ("between", "those", "you've") still finds them.
_STOP_WORDS = (
    "a about above after again against all am an and any are aren't as at be because been "
    "before being below between both but by can can't cannot could couldn't did didn't do "
    "does doesn't doing don't down during each few for from further had hadn't has hasn't "
    "have haven't having he he'd he'll he's her here here's hers herself him himself his how "
    "how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's me more most "
    "mustn't my myself no nor not now of off on once only or other ought our ours ourselves "
    "out over own same shan't she she'd she'll she's should shouldn't so some such than that "
    "that's the their theirs them themselves then there there's these they they'd they'll "
    "they're they've this those through to too under until up very was wasn't we we'd we'll "
    "we're we've were weren't what what's when when's where where's which while who who's "
    "whom why why's will with won't would wouldn't you you'd you'll you're you've your yours "
    "yourself yourselves"
)
STOP_WORDS = frozenset(_STOP_WORDS.split())


WORD = r"[^\W_]+(?:'[^\W_]+)*"  # letters and digits, with inner apostrophes ("you've")
_MARKS = re.compile(r"[\u0300-\u036f]")  # combining accents, once decomposed


def fold(text: str) -> str:
    """A text as keyword search compares it: lower-cased, accents folded as the keyword
    indices fold them ("Résumé" is "resume"), a typographic apostrophe made plain."""
    text = text.casefold().replace("\u2019", "'")
    return text if text.isascii() else _MARKS.sub("", unicodedata.normalize("NFKD", text))


def tokens(text: str) -> list[str]:
    """The words of a text, folded, in order: split at anything but letters, digits and
    inner apostrophes."""
    return re.findall(WORD, fold(text))


def keyword_terms(text: str) -> list[str]:
    """The words of a text query to look up by keyword, each once: its stop words left out,
    unless it holds nothing else."""
    words = list(dict.fromkeys(tokens(text)))
    return [w for w in words if w not in STOP_WORDS] or words


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


@dataclass(frozen=True, kw_only=True)
class Query:
    """One search, as every front end builds it (``search.syntax.parse_query``): what to look
    for (words, files, an item of the collection), how to weigh each, and which files may
    answer (``filters``, the media type and path glob among them)."""

    text: str | None = None
    media: Mapping[MediaKind, Path] = field(default_factory=dict)  # an image, a sound to search by
    weights: Mapping[str, float] = field(default_factory=dict)  # MODALITIES -> weight (default 1)
    target: str | None = None  # "seen" | "heard" | "said": score the text against that part
    negative: tuple[str, ...] = ()  # concepts subtracted from the text ("beach -people")
    like: Item | None = None  # more like this item (it is left out of the results)
    filters: Filter = field(default_factory=Filter)  # media type, path and other metadata
    keywords: bool = True  # also match the text's words (BM25), fused by reciprocal rank
    phrases: tuple[str, ...] = ()  # exact phrases: a result holds each as written (folded)
    impossible: str = ""  # why nothing can match ("type:image type:video"): no results

    def __post_init__(self) -> None:
        if not (self.browse or self.text or self.media or self.like):
            raise UsageError("give a text query, --image, --audio or --like, or a filter")
        for kind in self.media:
            if kind not in QUERY_MEDIA:
                raise UsageError(f"a query file is an image or a sound, not {kind}")
        if self.target is not None and self.target not in TARGETS:
            raise UsageError(f"--in must be one of {', '.join(TARGETS)}")
        if self.target is not None and not self.text:
            raise UsageError("--in needs a text query")
        if self.phrases and not self.text:
            raise UsageError("an exact phrase needs a text query")
        for name, w in self.weights.items():
            if name not in MODALITIES or w < 0:
                raise UsageError(f"bad weight {name}={w}: use text, image, audio, like >= 0")

    @property
    def browse(self) -> bool:
        """Filters only ("type:image after:2021", a folder, a camera): every file that passes
        them, by date (``search.browse``), rather than a ranking by meaning. Concepts to leave
        out (``negative``) have nothing to be left out of here, and change nothing."""
        return not (self.text or self.media or self.like) and bool(self.filters)


_NEGATIVE = re.compile(r'(?:^|\s)-(?:"([^"]+)"|([^\s"-][^\s"]*))')


def parse_negatives(text: str) -> tuple[str, tuple[str, ...]]:
    """rclip's way: "beach -people -\"red car\"" -> ("beach", ("people", "red car")). A dash
    inside a word ("well-known") or alone is kept as text."""
    negatives = tuple(a or b for a, b in _NEGATIVE.findall(text))
    return " ".join(_NEGATIVE.sub(" ", text).split()), negatives


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
        # (1 + Q, 384): the text, then each concept to subtract (vector arithmetic, as rclip)
        # a query in any language; an English one gets exactly its English vector
        vectors = encode_texts(space, [query.text, *query.negative], any_language=True)
        vector = vectors[0] - vectors[1:].sum(0)
        # not np.linalg.norm: its BLAS call took 1.8 ms on a busy 2-core machine (einsum 2 µs)
        vector = vector / max(float(np.sqrt(np.einsum("i,i", vector, vector))), 1e-9)
        parts["text"] = QueryPart(vector.astype(np.float32), weight("text"), [])
    if query.like is not None:
        parts["like"] = QueryPart(query.like.vector, weight("like"), query.like.labels)
    for kind, path in query.media.items():
        name = kind.value
        try:
            item = media.load(path)
        except MediaError as err:  # keeps its kind: unsupported, corrupt, too large
            raise type(err)(err.path, f"the query {name}: {err.cause}") from err
        if getattr(item, "kind", None) is not kind:
            # a sound given as the image (or a photo as the sound) would search by what it is,
            # silently: most likely the wrong option
            held = "a video's sound" if media.sniff(path) is MediaKind.VIDEO else item.kind.value
            raise UnsupportedMediaError(path, f"the query {name} holds {held}, not {name}")
        (e,) = space.embed([item])
        parts[name] = QueryPart(e.vector, weight(name), e.labels)
    if sum(p.weight for p in parts.values()) <= 0:
        raise UsageError("the weights of the given query parts are all zero")
    return parts


def where_clause(query: Query) -> str | None:
    """The query's filters as a LanceDB ``WHERE`` clause."""
    return query.filters.sql()


def encode_texts(space: SharedSpace, texts: list[str], any_language: bool = False
                 ) -> np.ndarray:  # fmt: skip
    """(N,) -> (N, 384) through the space's text encoder (``any_language``: the one for text
    in any language, whose English vectors are the same), each text encoded once per space
    (``SharedSpace.memo``)."""
    return space.memo(any_language).encode(texts)
