"""/api/search reads the one search syntax (GET and POST), pages with a total, an offset and
a cursor, sorts, flags weak results, and names a bad token in the error model."""

from __future__ import annotations

import re

import jsonschema_rs
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sensorium.errors import NotFoundError
from sensorium.search.query import Query, parse_negatives
from sensorium.search.syntax import ACCEPTED, parse_query


def test_get_reads_the_syntax(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": 'type:image "a cat" -dog', "k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["query"]["text"] == "a cat"
    assert [(c["key"], c["value"]) for c in body["query"]["chips"]] == [
        ("type", "image"), ("phrase", "a cat"), ("not", "dog")]  # fmt: skip
    assert all(h["type"] == "image" for h in body["results"])
    assert {"total", "offset", "weak", "cursor", "sort"} <= set(body)
    assert all(isinstance(h["weak"], bool) for h in body["results"])


def test_pages_and_cursor(client: TestClient) -> None:
    first = client.get("/api/search", params={"q": "an animal", "k": 2}).json()
    assert first["offset"] == 0 and first["total"] > 2 and first["cursor"]
    seen = [h["id"] for h in first["results"]]
    cursor = first["cursor"]
    while cursor:
        page = client.get("/api/search", params={"q": "an animal", "k": 2, "cursor": cursor})
        assert page.status_code == 200, page.text
        seen += [h["id"] for h in page.json()["results"]]
        cursor = page.json()["cursor"]
    assert len(seen) == len(set(seen)) == first["total"]
    by_offset = client.get("/api/search", params={"q": "an animal", "k": 2, "offset": 2}).json()
    assert [h["id"] for h in by_offset["results"]] == seen[2:4] and by_offset["offset"] == 2


def test_sort_and_post(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "an animal", "k": 50, "sort": "added"})
    assert r.status_code == 200 and r.json()["sort"] == "added"
    r = client.post("/api/search", data={"q": "said:hello type:audio", "k": "5"})
    assert r.status_code == 200, r.text
    assert [c["key"] for c in r.json()["query"]["chips"]] == ["said", "type"]
    assert all(h["type"] == "audio" for h in r.json()["results"])


def test_bad_tokens_are_named(client: TestClient) -> None:
    for q, named in (("type:banana cat", "type:banana"), ("after:2021-13 cat", "after:2021-13"),
                     ("colour:red cat", "colour:red"), ('"open cat', '"open')):  # fmt: skip
        for r in (client.get("/api/search", params={"q": q}),
                  client.post("/api/search", data={"q": q})):  # fmt: skip
            assert r.status_code == 422, (q, r.text)
            body = r.json()
            assert body["error"] == "invalid" and body["field"] == "q" and named in body["detail"]
            assert "Traceback" not in r.text
    r = client.get("/api/search", params={"q": "cat", "cursor": "../../etc"})
    assert r.status_code == 422 and r.json()["field"] == "cursor"


def test_what_cannot_hold_matches_nothing(client: TestClient) -> None:
    """Two values of one key, or dates the wrong way round, match nothing (200), as a filter
    range the wrong way round does."""
    for params in ({"q": "type:image type:video cat"}, {"q": "after:2022 before:2021 cat"},
                   {"q": "type:image cat", "type": "audio"}):  # fmt: skip
        r = client.get("/api/search", params=params)
        assert r.status_code == 200 and r.json()["results"] == [] and r.json()["total"] == 0


QUERY_CHARS = ' -"ab:\t\u2003\x85\n'


@settings(max_examples=1500, deadline=None)
@example("near::0," + ":," * 120 + "x")  # a near: value longer than the near parameter's 200
@example("type:image near:" + "Paris" * 50)  # filters alone, one long place name
@given(st.one_of(st.text(alphabet=QUERY_CHARS, max_size=12),
                 st.from_regex(ACCEPTED, fullmatch=True).filter(lambda q: len(q) <= 300),
                 st.lists(st.sampled_from(["type:image", "said:dog", '"a b"', "-x", "cat",
                                           "after:2021-06", "keyword:k", "a-b", "x:y", "-",
                                           "near:1,2,3km", '"', "said:-a", "type:cats"]),
                          max_size=5).map(" ".join)))  # fmt: skip
def test_the_schema_admits_what_the_syntax_reads(q: str) -> None:
    """What the schema's pattern admits, the library's parse reads without an error and finds
    words to look for in, or filters only to browse by (a part of what parse reads: the
    server refuses the rest, 422); an ECMA regex (the schema's reader) agrees with Python's.
    A near: place that is not known is a 404, which a schema admits."""
    admitted = bool(re.search(ACCEPTED, q))
    assert admitted == jsonschema_rs.validator_for({"pattern": ACCEPTED}).is_valid(q)
    if admitted:
        try:
            query = parse_query(q)  # no error, and text to look for
        except NotFoundError:  # near: a place no one knows (404, as a schema allows)
            return
        assert query.browse or (query.text and search_resolved_text(query))


def search_resolved_text(query: Query) -> bool:
    """The search, too, finds words in it (it reads "-word" in a text as a concept)."""
    return bool(parse_negatives(query.text or "")[0])
