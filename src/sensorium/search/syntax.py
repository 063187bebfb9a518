"""One search syntax: a query string -> the typed query (``Query``) and the parts it holds.

    type:video  said:"gorilla"  seen:dog  heard:barking  written:"exit"
    camera:canon  after:2021-06  before:2022  path:holiday/  keyword:beach  near:Paris
    -people  -"red car"  "an exact phrase"  and the words themselves

Quoting is the shell's (``shlex``, double quotes only: an apostrophe is a letter, as in
"don't"). A word ``key:value`` whose key is known sets a filter or the part to search; an
unknown key with a value (``colour:red``), a value a key refuses (``type:banana``,
``after:2021-13``) or a quote left open is a ``UsageError`` that names the token. A word that
only ends with a colon ("say: budget") stays a word. ``near:Paris``, ``near:48.85,2.35,10km``
(``search/near.py``: a place that is not known is a ``NotFoundError``); ``person:Alice``
(a name given with ``sensorium people name``; the collection resolves it to the files that
person is seen in, and a name it does not know matches nothing); a query of ``person:`` and
no words looks for "a person" among that person's files. Two values of one key, or
``after:`` later than ``before:``, match nothing (``impossible``), as a range the wrong way
round does.

Dates are UTC, as EXIF dates are stored (``media/metadata.py``): ``after:2021-06`` keeps what
was taken from 1 June 2021 on, ``before:2022`` what was taken before 1 January 2022.
"""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sensorium.errors import UsageError
from sensorium.media.types import MediaKind
from sensorium.search.near import parse_near
from sensorium.search.query import PERSON_ONLY, TARGETS, Query
from sensorium.store.base import KINDS, Filter
from sensorium.store.records import Item

__all__ = ["ACCEPTED", "KEYS", "Chip", "Parsed", "parse", "parse_query"]

MAX_QUERY = 1000  # characters of a query string
_KEY = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
# Other names people give a media type (plurals are read too: "videos", "photos")
_TYPE_NAMES = {"photo": "image", "picture": "image", "pic": "image", "sound": "audio",
               "recording": "audio", "movie": "video", "clip": "video",
               "document": "text", "note": "text"}  # fmt: skip


@dataclass(frozen=True)
class Chip:
    """One understood part of a query string: what it sets, and where it is written."""

    key: str  # a KEYS name, "not" (a concept to leave out) or "phrase" (an exact phrase)
    value: str  # as the query means it: "video", "2021-06", "red car"
    start: int  # the token's characters in the query string: [start, end)
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Parsed:
    """What a query string says: the text to search by meaning and words, and the rest."""

    text: str | None = None  # the words and exact phrases, in order
    target: str | None = None  # said:, seen:, heard:, written:
    negative: tuple[str, ...] = ()  # -word, -"two words"
    phrases: tuple[str, ...] = ()  # "an exact phrase": a result holds each, as written
    filters: Filter = field(default_factory=Filter)  # type:, path:, camera:, after:, ...
    chips: tuple[Chip, ...] = ()
    # why nothing can match: a key given two values ("type:image type:video"), after: later
    # than before: (as a filter range whose ends are the wrong way round matches nothing)
    impossible: str = ""

    def query(
        self,
        media: Mapping[MediaKind, Path] | None = None,
        weights: Mapping[str, float] | None = None,
        like: Item | None = None,
        keywords: bool = True,
    ) -> Query:
        """The typed query, with the parts a string cannot hold (files, weights, an item)."""
        text = self.text
        if not (text or media or like) and self.filters.person:
            text = PERSON_ONLY  # all of that person's files, ranked by how much a person shows
        return Query(text=text, media=dict(media or {}), weights=dict(weights or {}),
                     target=self.target, negative=self.negative, like=like,
                     filters=self.filters, keywords=keywords, phrases=self.phrases,
                     impossible=self.impossible)  # fmt: skip

    def merge(
        self,
        target: str | None = None,
        negative: tuple[str, ...] = (),
        filters: Filter | None = None,
    ) -> Parsed:
        """The same with options given beside the string: one that the string sets
        otherwise leaves nothing to match (``impossible``), as two values of one key in the
        string do."""
        out = replace(self, negative=self.negative + tuple(negative))
        if target is not None:
            out = replace(_settle(out, "target", out.target, target), target=target)
        if not filters:
            return out
        mine = {f.name: getattr(out.filters, f.name) for f in fields(Filter)}
        for f in fields(Filter):
            theirs = getattr(filters, f.name)
            if theirs is not None:
                out = _settle(out, f.name, mine[f.name], theirs)
                mine[f.name] = theirs
        try:
            return replace(out, filters=Filter(**mine))
        except UsageError as err:  # a range the wrong way round
            return replace(out, impossible=out.impossible or str(err))

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "chips": [c.to_json() for c in self.chips]}


def _settle(parsed: Parsed, name: str, mine: object, theirs: object) -> Parsed:
    if mine is None or mine == theirs or parsed.impossible:
        return parsed
    return replace(parsed, impossible=f"{name} is both {mine!r} and {theirs!r}")


def _kind(token: str, value: str) -> dict[str, Any]:
    name = value.lower()
    name = _TYPE_NAMES.get(name, _TYPE_NAMES.get(name.removesuffix("s"), name))
    name = name if name in KINDS else name.removesuffix("s")
    if name not in KINDS:
        raise UsageError(f"'{token}': no type {value!r} (use {', '.join(KINDS)})")
    return {"kind": name}


def _day(token: str, value: str) -> datetime:
    """The first moment of the year, month or day ``value`` names (UTC)."""
    m = _DATE.fullmatch(value)
    try:
        if m is None:
            raise ValueError(value)
        return datetime(int(m[1]), int(m[2] or 1), int(m[3] or 1), tzinfo=UTC)
    except ValueError:
        raise UsageError(f"'{token}': not a date (write 2021, 2021-06 or 2021-06-30)") from None


def _after(token: str, value: str) -> dict[str, Any]:
    return {"taken_after": _day(token, value).timestamp()}


def _before(token: str, value: str) -> dict[str, Any]:
    return {"taken_before": _day(token, value).timestamp() - 1e-3}  # before it began


def _path(token: str, value: str) -> dict[str, Any]:
    """A glob as written; without ``*`` or ``?``, any path that holds the text."""
    return {"path": value if any(c in value for c in "*?") else f"*{value}*"}


def _near(token: str, value: str) -> dict[str, Any]:
    """A place or a point, and a radius (``search.near.parse_near``; its errors name it)."""
    return {"near": parse_near(value)}


def _person(token: str, value: str) -> dict[str, Any]:
    """A person's name, spaces folded (the collection matches it in any case)."""
    return {"person": " ".join(value.split())}


def _field(name: str) -> Callable[[str, str], dict[str, Any]]:
    return lambda token, value: {name: value}


def _target(name: str) -> Callable[[str, str], dict[str, Any]]:
    return lambda token, value: {"target": name, "words": value}


# key -> what its value sets: Parsed's fields, Filter's fields, or "words" (text to search)
KEYS: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "type": _kind,
    **{t: _target(t) for t in TARGETS},
    "camera": _field("camera"),
    "after": _after,
    "before": _before,
    "path": _path,
    "keyword": _field("keyword"),
    "near": _near,
    "person": _person,
}


# -- the syntax as one regular expression (what an API schema can say) -------------------------
# A part of what ``parse`` reads, spelled so that Python's re and an ECMA regex (a JSON
# schema's ``pattern``) read it alike: the query strings that parse without an error and hold
# words to look for, or filters only. Tokens are split at the shell's spaces; no other space
# (Python's ``str.isspace``) is inside a token but between quotes; a word holds no colon and
# starts with no dash; quoted text and the words of said:, seen:, heard: and written: hold no
# dash (the search reads "-word" in its text as a concept to leave out); dates run from 1800
# to 2099 and days to the 28th. Tested against ``parse`` (tests/service/test_search_syntax.py).
_SPLIT = " \t\r\n"  # shlex's whitespace
_SPACES = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace() and ch not in " \t\r\n")
_S = _SPLIT + _SPACES  # every space: the shell's, then the others
_BARE = f'[^{_S}"]+'  # a value as written, unquoted
# Each token spelled one way only (no class overlaps the next): a search that fails would
# otherwise try every way of every token, which grows as a power of their number.
_QUOTED = f'"[{_S}]*[^"{_S}][^"]*"'  # quoted, holding something
_UNDASHED = f'(?:[^{_S}"-]+|"[{_S}]*[^"{_S}-][^"-]*")'  # either, without a dash
_DAY = "(?:1[89]|20)[0-9][0-9](?:-(?:0?[1-9]|1[0-2])(?:-(?:0?[1-9]|1[0-9]|2[0-8]))?)?"
_WORD = f'[^{_S}":-][^{_S}":]*'
_PHRASE = f'"[{_S}]*[^"{_S}-][^"-]*"'
_TARGET = f"(?:{'|'.join(TARGETS)}):{_UNDASHED}"
_TEXT_TOKEN = f"(?:{_WORD}|{_PHRASE}|{_TARGET})"
# near's grammar, unspaced and unquoted: a part that is not a number
_NEAR_NAME = f'[0-9.+-]*[^,0-9.+"{_S}-][^,"{_S}]*'
_NEAR_POINT = (
    r"[-+]?(?:90(?:\.0*)?|[0-8]?[0-9](?:\.[0-9]*)?),"  # latitude
    r"[-+]?(?:180(?:\.0*)?|(?:1[0-7][0-9]|0?[0-9]?[0-9])(?:\.[0-9]*)?)"  # longitude
    r"(?:,[0-9]{1,6}(?:\.[0-9]+)?(?:[kK][mM]|[mM][iI]|[mM])?)?"  # a radius
)
_NEAR = f"near:(?:{_NEAR_POINT}|{_NEAR_NAME}(?:,{_NEAR_NAME})*)"
_FILTER = (f"(?:type:(?:{'|'.join(KINDS)})|(?:after|before):{_DAY}"
           f"|(?:camera|path|keyword|person):(?:{_BARE}|{_QUOTED})|{_NEAR})")  # fmt: skip
_TOKEN = f"(?:{_WORD}|{_PHRASE}|{_TARGET}|-(?:{_BARE}|{_QUOTED})|{_FILTER})"
_KEPT = f"(?:{_WORD}|{_PHRASE}|{_TARGET}|{_FILTER})"  # any token but a concept left out
_PERSON = f"person:(?:{_BARE}|{_QUOTED})"  # words enough by itself (``PERSON_ONLY``)
_GAP = f"[{_SPLIT}]"
# Words to look for with any tokens beside them; or filters only (``Query.browse``) and words,
# but no concept to leave out (there is no text to subtract it from)
ACCEPTED = (f"^{_GAP}*(?:(?:{_TOKEN}{_GAP}+)*(?:{_TEXT_TOKEN}|{_PERSON})(?:{_GAP}+{_TOKEN})*"
            f"|{_KEPT}(?:{_GAP}+{_KEPT})*){_GAP}*$")  # fmt: skip


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """(token unquoted, start, end) for each whitespace-separated token, quoted the shell's
    way with double quotes."""
    stream = io.StringIO(text)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split, lexer.quotes, lexer.escape, lexer.commenters = True, '"', "", ""
    out: list[tuple[str, int, int]] = []
    try:
        while True:
            before = stream.tell()
            token = lexer.get_token()
            if token is None or token == lexer.eof:
                return out
            raw = text[before : stream.tell()]
            start = before + len(raw) - len(raw.lstrip())
            out.append((token, start, start + len(raw.strip())))
    except ValueError:  # "No closing quotation"
        at = text.rfind('"')
        raise UsageError(f"'{text[at : at + 20]}': a quote is not closed") from None


def parse(text: str) -> Parsed:
    """A query string -> what it says (``Parsed``); see the module's docstring."""
    if len(text) > MAX_QUERY:
        raise UsageError(f"the query is over {MAX_QUERY} characters")
    words: list[str] = []
    out: dict[str, Any] = {}
    filters: dict[str, Any] = {}
    negative: list[str] = []
    phrases: list[str] = []
    chips: list[Chip] = []
    impossible = ""
    tokens = _tokens(text)
    i = 0
    while i < len(tokens):
        token, start, end = tokens[i]
        raw = text[start:end]
        i += 1
        m = _KEY.fullmatch(token)
        key = m[1].lower() if m else ""
        if m and key in KEYS:
            value = m[2].strip()
            if not value and i < len(tokens):  # "said: gorilla"
                value, end = tokens[i][0].strip(), tokens[i][2]
                i += 1
            raw = text[start:end]
            if not value:
                raise UsageError(f"'{raw}': give a value after the colon")
            set_ = KEYS[key](raw, value)
            if "words" in set_:
                words.append(set_.pop("words"))
            for name, v in set_.items():
                held = out if name == "target" else filters
                if name in held and held[name] != v:  # both cannot hold
                    impossible = impossible or f"'{raw}': the query already says {key}: once"
                held.setdefault(name, v)
            chips.append(Chip(key, value, start, end))
        elif m and m[2].strip() and not raw.startswith('"'):
            raise UsageError(f"'{raw}': unknown filter {key}: (use {', '.join(KEYS)})")
        elif token.startswith("-") and len(token) > 1 and token[1:].strip():
            negative.append(" ".join(token[1:].split()))
            chips.append(Chip("not", negative[-1], start, end))
        elif raw.startswith('"') and raw.endswith('"') and token.strip():
            phrases.append(" ".join(token.split()))
            words.append(phrases[-1])
            chips.append(Chip("phrase", phrases[-1], start, end))
        elif token.strip():
            words.append(token)
    try:
        where = Filter(**filters)
    except UsageError:  # after: later than before:
        said = " ".join(text[c.start : c.end] for c in chips if c.key in ("after", "before"))
        impossible = impossible or f"'{said}': no date is after the one and before the other"
        where = Filter(
            **{k: v for k, v in filters.items() if k not in ("taken_after", "taken_before")}
        )
    return Parsed(" ".join(" ".join(words).split()) or None, out.get("target"), tuple(negative),
                  tuple(phrases), where, tuple(chips), impossible)  # fmt: skip


def parse_query(
    text: str | None = None,
    *,
    media: Mapping[MediaKind, Path] | None = None,
    weights: Mapping[str, float] | None = None,
    like: Item | None = None,
    keywords: bool = True,
    kind: str | None = None,
    path: str | None = None,
    target: str | None = None,
    negative: tuple[str, ...] = (),
    filters: Filter | None = None,
    syntax: bool = True,
) -> Query:
    """The one way a search becomes a ``Query``, for the CLI, both routes and the library:
    ``parse(text)``, with what is given beside the string merged in. ``kind`` and ``path``
    are filters as ``type:`` and ``path:`` are; a value the string sets otherwise leaves
    nothing to match. ``syntax=False`` takes the text as words only (a ticket, a caption:
    text that is not a query string, where "http://..." is no filter)."""
    parsed = parse(text or "") if syntax else Parsed(" ".join((text or "").split()) or None)
    if parsed.negative and not (parsed.text or parsed.filters.person or media or like):
        raise UsageError(f"-{parsed.negative[0]}: a concept to leave out needs words to leave "
                         "it out of")  # fmt: skip
    merged = parsed.merge(target, tuple(negative), filters).merge(
        filters=Filter(kind=kind, path=path)
    )
    return merged.query(media, weights, like, keywords)
