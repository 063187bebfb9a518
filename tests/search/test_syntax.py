"""The search syntax: every token, quoting the shell's way, and errors that name the token."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sensorium.errors import UsageError
from sensorium.search.syntax import KEYS, parse, parse_query
from sensorium.store.base import Filter


def _utc(*ymd: int) -> float:
    return datetime(*ymd, tzinfo=UTC).timestamp()  # type: ignore[misc]


def test_every_token() -> None:
    q = ('type:video said:"gorilla" beach -people -"red car" "an exact phrase" '
         "after:2021-06 before:2022 path:holiday/ camera:canon keyword:sea")  # fmt: skip
    p = parse(q)
    assert p.target == "said"
    assert p.text == "gorilla beach an exact phrase"
    assert p.negative == ("people", "red car") and p.phrases == ("an exact phrase",)
    assert p.filters == Filter(kind="video", path="*holiday/*", camera="canon", keyword="sea",
                               taken_after=_utc(2021, 6, 1),
                               taken_before=_utc(2022, 1, 1) - 1e-3)  # fmt: skip
    # each chip is where its token is written: removing it removes just that token
    assert [q[c.start : c.end] for c in p.chips] == [
        "type:video", 'said:"gorilla"', "-people", '-"red car"', '"an exact phrase"',
        "after:2021-06", "before:2022", "path:holiday/", "camera:canon", "keyword:sea"]  # fmt: skip
    assert [c.key for c in p.chips] == ["type", "said", "not", "not", "phrase", "after",
                                        "before", "path", "camera", "keyword"]  # fmt: skip


@pytest.mark.parametrize("target", ["seen", "heard", "said", "written"])
def test_each_part(target: str) -> None:
    p = parse(f'{target}:"two words" more')
    assert p.target == target and p.text == "two words more"
    assert parse_query(f"{target}:dog").target == target


@pytest.mark.parametrize(("value", "kind"), [("image", "image"), ("photos", "image"),
                         ("videos", "video"), ("sound", "audio"), ("text", "text")])  # fmt: skip
def test_type_names(value: str, kind: str) -> None:
    assert parse(f"type:{value} x").filters.kind == kind


def test_dates_and_globs() -> None:
    assert parse("after:2021").filters.taken_after == _utc(2021, 1, 1)
    assert parse("after:2021-06-30").filters.taken_after == _utc(2021, 6, 30)
    assert parse("path:*.jpg").filters.path == "*.jpg"  # a glob stays a glob
    assert parse("said: budget").target == "said"  # a space after the colon


def test_plain_words_stay_words() -> None:
    """Apostrophes are letters, a word that ends with a colon is a word, a dash inside a word
    is kept."""
    p = parse("where does she say: don't well-known 10:30")
    assert p.text == "where does she say: don't well-known 10:30" and not p.chips
    assert parse_query("where does she say budget").text == "where does she say budget"


@pytest.mark.parametrize(("query", "named"), [
    ("type:banana", "'type:banana'"),
    ("after:2021-13", "'after:2021-13'"),
    ("before:21-06", "'before:21-06'"),
    ("x colour:red", "'colour:red'"),
    ('said:"gorilla', '\'"gorilla'),
    ("x said:", "'said:'"),
    ("near:91,0 x", "near '91,0'"),
])  # fmt: skip
def test_errors_name_the_token(query: str, named: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(query)
    assert named in str(err.value)


def test_near_and_person_are_known_keys() -> None:
    assert {"near", "person"} <= set(KEYS)
    near = parse("near:48.85,2.35,10km cafe").filters.near
    assert near is not None and (near.latitude, near.longitude, near.km) == (48.85, 2.35, 10.0)


def test_options_beside_the_string() -> None:
    q = parse_query("dog type:image", kind="image", negative=("cat",),
                    filters=Filter(camera="nikon"))  # fmt: skip
    assert q.filters.kind == "image" and q.negative == ("cat",) and q.filters.camera == "nikon"
    assert (
        parse_query("dog type:image", kind="video").impossible == "kind is both 'image' and 'video'"
    )


@pytest.mark.parametrize(("query", "named"), [
    ("type:image type:video x", "'type:video'"),
    ("after:2022 before:2021 x", "'after:2022 before:2021'"),
])  # fmt: skip
def test_what_cannot_hold_matches_nothing(query: str, named: str) -> None:
    """Two values of one key, or dates the wrong way round: nothing can match, as with a
    filter range the wrong way round (no results, not an error)."""
    assert named in parse(query).impossible and named in parse_query(query).impossible
    assert parse_query("type:image").browse  # filters alone: every file they pass
    with pytest.raises(UsageError, match="needs words"):
        parse_query("type:image -people")  # a concept to leave out of nothing
    # beside the string (the API's ``not``), it changes nothing of a browse
    assert parse_query("type:image", negative=("people",)).browse
