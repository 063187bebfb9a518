"""Why a search result matched: one typed ``Explanation`` that serialises itself and says
itself in lines, so the CLI, the API and the page show the same thing.

``to_dict()`` holds the data under the keys the API has always answered (``moment``,
``seen``, ``said``, ``keyword``, ``shared_labels``, ...): a key is present only where it has
something to say. ``lines()`` are the human lines, best first; each starts with its tag (one
word of ``TAGS``), so a front end may style the tag and print the rest. ``to_json()`` is the
dict with its ``lines``: what ``Hit.to_json()``, the CLI's ``--json`` and the service give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["TAGS", "Explanation", "Keyword", "Label", "Moment", "Nearness"]

# A line's first word: what kind of reason it gives.
TAGS = ("moment", "matched", "said", "seen", "heard", "written", "typed", "shares", "near",
        "words", "only", "without")  # fmt: skip

# Where a keyword was found, as a line says it (``Keyword.where``).
_WHERE = {"said": "what was said", "written": "what is written", "typed": "the text",
          "name": "the file name", "caption": "the caption",
          "keywords": "the keywords"}  # fmt: skip
# What a part of a video moment or of a target is, as a line says it.
_PART = {"seen": "what is seen", "heard": "what is heard", "said": "what is said",
         "written": "what is written", "faces": "the faces"}  # fmt: skip
# Whose labels a query's input shares: ``Explanation.shared`` keys, as a line says them.
_WITH = {"image": " with the image", "audio": " with the sound", "like": " with the file liked",
         "item": ""}  # fmt: skip
TEXT_SHOWN = 80  # characters of a text file's text a line quotes


@dataclass(frozen=True)
class Moment:
    """Seconds into a video or a recording."""

    start: float
    end: float

    def to_dict(self) -> dict[str, float]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class Label:
    """A label of the item and its classifier score."""

    label: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score}


@dataclass(frozen=True)
class Keyword:
    """A word of the query found in the item as a word: where, and when if said."""

    word: str  # the item's word
    where: str  # said, written, typed, name, caption or keywords (the JSON's "in")
    at: float | None = None  # seconds: the first line that says it
    query: str | None = None  # the query's word, where it was found in another form
    by: str | None = None  # "stem" or "spelling", with ``query``

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"word": self.word, "in": self.where}
        if self.at is not None:
            out["at"] = self.at
        if self.query is not None:
            out.update(query=self.query, by=self.by)
        return out

    def line(self) -> str:
        where = _WHERE.get(self.where, "the text")
        at = f" at {self.at:.1f} s" if self.at is not None else ""
        other = f" (for “{self.query}”, by {self.by})" if self.query is not None else ""
        return f"the word “{self.word}” in {where}{at}{other}"


@dataclass(frozen=True)
class Nearness:
    """How far from a ``near:`` point a photo was taken, and which point that is."""

    within_km: float
    km: float | None = None  # None: the item has no GPS position
    place: str | None = None  # a place given by name ...
    chosen: str | None = None  # ... and which of the places so called it is
    point: tuple[float, float] | None = None  # else the point given (latitude, longitude)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"within_km": self.within_km}
        if self.km is not None:
            out["km"] = self.km
        if self.place is not None:
            out["place"], out["chosen"] = self.place, self.chosen
        elif self.point is not None:
            out["point"] = list(self.point)
        return out

    def line(self) -> str:
        where = self.place or (f"{self.point[0]}, {self.point[1]}" if self.point else "the point")
        far = f"{self.km:g} km from" if self.km is not None else "no position, near"
        chosen = f"; {self.chosen}" if self.chosen else ""
        return f"{far} {where} (within {self.within_km:g} km{chosen})"


@dataclass
class Explanation:
    """What a hit matched on. Every field is optional: a search fills what applies."""

    parts: dict[str, float] = field(default_factory=dict)  # query part -> its score
    moment: Moment | None = None  # a video's moment, or a recording's closest line
    transcript: str | None = None  # a recording's line closest to the query
    labels: list[Label] = field(default_factory=list)  # the item's closest labels
    labels_heard: bool = False  # the labels are sounds (an audio item), not what is seen
    seen: list[str] | None = None  # a video moment: what is seen (present, maybe empty)
    heard: list[str] = field(default_factory=list)  # ... what is heard
    said: str | None = None  # ... what is said
    written: str | None = None  # text read in an image or in a video's frames
    text: str | None = None  # a text file's text (its start)
    matched: str | None = None  # the part of a video moment closest to the query
    part_scores: dict[str, float] = field(default_factory=dict)  # each part's score
    words: list[str] = field(default_factory=list)  # the query's words the item holds
    keyword: Keyword | None = None  # the word keyword search found, and where
    negative: list[str] = field(default_factory=list)  # concepts subtracted (JSON "not")
    near: Nearness | None = None  # with a near: filter
    shared: dict[str, list[str]] = field(default_factory=dict)  # input -> labels shared
    target: str | None = None  # the part the text was matched against only

    def to_dict(self) -> dict[str, Any]:
        """The data, under the API's keys, each only where it says something."""
        out: dict[str, Any] = {"parts": dict(self.parts)}
        for key, value in (
            ("moment", self.moment and self.moment.to_dict()),
            ("transcript", self.transcript),
            ("labels", [lb.to_dict() for lb in self.labels]),
            ("heard", self.heard),
            ("said", self.said),
            ("written", self.written),
            ("text", self.text),
            ("matched", self.matched),
            ("part_scores", dict(self.part_scores)),
            ("words", self.words),
            ("keyword", self.keyword and self.keyword.to_dict()),
            ("not", self.negative),
            ("near", self.near and self.near.to_dict()),
            ("target", self.target),
        ):
            if value:
                out[key] = value
        if self.seen is not None:  # a moment says what is seen, even nothing
            out["seen"] = list(self.seen)
        for name, labels in self.shared.items():
            out["shared_labels" if name == "item" else f"shared_{name}_labels"] = labels
        return out

    def to_json(self) -> dict[str, Any]:
        """``to_dict()`` and its human ``lines``."""
        return self.to_dict() | {"lines": self.lines()}

    def tagged(self) -> list[tuple[str, str]]:
        """The lines as (tag, text), best first."""
        out: list[tuple[str, str]] = []

        def add(tag: str, text: str | None) -> None:
            if text:
                out.append((tag, text))

        if self.moment is not None:
            add("moment", f"{self.moment.start:.1f}–{self.moment.end:.1f} s")
        if self.keyword is not None:
            add("matched", self.keyword.line())
        # what an input shares with the item: the reason for a query image, sound or item
        for name, labels in self.shared.items():
            add("shares", ", ".join(labels[:3]) + _WITH.get(name, f" with the {name}"))
        add("said", self.transcript and f"“{self.transcript}”")
        add("said", self.said and f"“{self.said}”")
        add("seen", ", ".join(self.seen or ()))
        add("heard", ", ".join(self.heard))
        add("heard" if self.labels_heard else "seen",
            ", ".join(f"{lb.label} {lb.score:.2f}" for lb in self.labels))  # fmt: skip
        add("written", self.written)
        if self.text:
            add("typed", f"“{_clip(self.text, TEXT_SHOWN)}”")
        if self.matched:
            add("matched", f"on {_PART.get(self.matched, self.matched)}")
        if self.target and self.target != self.matched:
            add("only", _PART.get(self.target, self.target))
        if self.near is not None:
            add("near", self.near.line())
        if self.keyword is None:  # the keyword line names the word and where it is
            add("words", ", ".join(self.words))
        add("without", ", ".join(self.negative))
        return out

    def lines(self) -> list[str]:
        """The human lines, best first, each "<tag> <text>" (``TAGS``)."""
        return [f"{tag} {text}" for tag, text in self.tagged()]


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
