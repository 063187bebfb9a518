"""/api/search reads the one search syntax (GET and POST), pages with a total, an offset and
a cursor, sorts, flags weak results, and names a bad token in the error model."""

from __future__ import annotations

from fastapi.testclient import TestClient


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
            assert r.status_code == 400, (q, r.text)
            assert r.json()["error"] == "usage" and named in r.json()["detail"]
            assert "Traceback" not in r.text
    r = client.get("/api/search", params={"q": "cat", "cursor": "../../etc"})
    assert r.status_code == 422 and r.json()["field"] == "cursor"
