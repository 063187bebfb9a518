"""The API contract: the OpenAPI schema says what the server does. One error model for every
status, what the schema refuses the server refuses (and the other way round), HTTP's own rules
(Allow, HEAD, OPTIONS, Range), every documented example valid."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorium.collection import Collection
from sensorium.search.query import TARGETS, parse_negatives
from sensorium.search.syntax import ACCEPTED
from sensorium.service import routes
from sensorium.service.contract import HAS_TEXT, STATUS, UPLOADS, Error, nonblank
from sensorium.store.base import KINDS

jsonschema_rs = pytest.importorskip("jsonschema_rs")


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def _is_error(client: TestClient, r: Any, status: int, kind: str, field: str | None = None) -> None:
    """``r`` is the error model, with ``status`` as ``kind`` says and the route declares."""
    assert r.status_code == status == STATUS[kind], r.text
    body = r.json()
    Error.model_validate(body)
    assert body["error"] == kind and set(body) <= {"error", "detail", "field"}
    assert body.get("field") == field and "\n" not in body["detail"]


@pytest.fixture(scope="module")
def schema(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()  # type: ignore[no-any-return]


def test_every_error_status_is_the_one_error_model(schema: dict[str, Any]) -> None:
    assert not {"HTTPValidationError", "ValidationError"} & set(schema["components"]["schemas"])
    names = {route.name for route in routes.router.routes}  # type: ignore[attr-defined]
    for path, method, op in _operations(schema):
        assert op["operationId"] in names  # the route's function: search_get, item_media, ...
        codes = {int(c) for c in op["responses"]}
        assert 500 in codes and codes & {200, 202}, (method, path)
        for code, response in op["responses"].items():
            if int(code) >= 400:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, code)
        if "requestBody" in op:  # a body can be over the bound, or not parse
            assert {400, 413, 422} <= codes, (method, path)


def test_error_model_from_every_source(client: TestClient, media_root: Path,
                                       crow_ogg: Path) -> None:  # fmt: skip
    # the library's own kinds, through the one map
    with crow_ogg.open("rb") as f:  # a sound as the ticket's image, and nothing else
        r = client.post("/api/triage", files={"image": ("crow.ogg", f, "audio/ogg")})
    _is_error(client, r, 400, "usage")
    _is_error(client, client.post("/api/ingest", json={"paths": ["/etc"]}), 403, "forbidden")
    _is_error(client, client.get("/api/items/nope"), 404, "missing")
    zipped = [("files", ("a.zip", b"PK\x03\x04" + bytes(200), "application/zip"))]
    _is_error(client, client.post("/api/read", files=zipped), 415, "unsupported")
    cut = [("files", ("cut.png", b"\x89PNG\r\n\x1a\n" + bytes(40), "image/png"))]
    _is_error(client, client.post("/api/read", files=cut), 422, "corrupt")
    # validation, the guard, HTTP's own
    _is_error(client, client.get("/api/search", params={"q": "x", "k": 101}), 422, "invalid", "k")
    empty = [("files", ("empty.png", b"", "image/png"))]
    _is_error(client, client.post("/api/read", files=empty), 422, "invalid", "files")
    big = {"image": ("big.jpg", bytes(2 * 2**20 + 1), "image/jpeg")}
    _is_error(client, client.post("/api/search", files=big), 413, "too_large")
    r = client.request("TRACE", "/api/search")
    _is_error(client, r, 405, "method")


def test_405_names_every_method_and_options_lists_them(client: TestClient) -> None:
    r = client.request("TRACE", "/api/search")
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    r = client.delete("/api/items/anything/media")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS"
    r = client.options("/api/ingest")
    assert r.status_code == 204 and r.headers["allow"] == "OPTIONS, POST" and not r.content


def test_head_answers_as_get_does(client: TestClient, collection: Collection,
                                  media_root: Path) -> None:  # fmt: skip
    item = collection.item(str(media_root / "crow.ogg"))
    for path in ("/api/health", "/api/stats", f"/api/items/{item.id}",
                 f"/api/items/{item.id}/media", f"/api/items/{item.id}/thumbnail"):  # fmt: skip
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200 and head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path
        if path.endswith("/media"):
            assert head.headers["content-length"] == get.headers["content-length"]
    assert client.head("/api/items/nope").status_code == 404
    assert client.head("/api/ingest").status_code == 405


def test_a_range_that_cannot_be_served_gets_416(client: TestClient, collection: Collection,
                                                media_root: Path) -> None:  # fmt: skip
    item = collection.item(str(media_root / "crow.ogg"))
    size = (media_root / "crow.ogg").stat().st_size
    url = f"/api/items/{item.id}/media"
    for bad in ("bytes=abc", "bytes=5-2", "items=0-1", f"bytes={size}-", "bytes=", "bytes=-"):
        r = client.get(url, headers={"Range": bad})
        _is_error(client, r, 416, "range")
        assert r.headers["content-range"] == f"bytes */{size}", bad
    assert client.get(url, headers={"Range": "bytes=0-9"}).status_code == 206
    # a Range the file no longer matches (If-Range) is moot: the whole file
    r = client.get(url, headers={"Range": "bytes=abc", "If-Range": '"an-old-etag"'})
    assert r.status_code == 200 and len(r.content) == size


QUERY_CHARS = ' -"ab\t\u2003\x1f\ufeff\x85,\n'


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=QUERY_CHARS, max_size=14))
def test_has_text_is_what_the_library_can_search(q: str) -> None:
    """The schema's pattern (and the server's check) admit exactly the queries whose text the
    library's own parse leaves words in; an ECMA regex (the schema's reader) agrees."""
    found = bool(re.search(HAS_TEXT, q))
    assert found == (parse_negatives(q)[0] != "")
    assert found == jsonschema_rs.validator_for({"pattern": HAS_TEXT}).is_valid(q)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=QUERY_CHARS + "é_", max_size=8))
def test_nonblank_labels_are_the_ones_that_leave_some(labels: str) -> None:
    left = [lb.strip() for lb in labels.split(",") if lb.strip()]
    assert bool(re.search(nonblank(","), labels)) == bool(left)
    assert jsonschema_rs.validator_for({"pattern": nonblank(",")}).is_valid(labels) == bool(left)


def test_what_the_schema_refuses_the_server_refuses(client: TestClient) -> None:
    for q in ("-people", '  -"red car" -dog ', "   "):
        r = client.get("/api/search", params={"q": q})
        _is_error(client, r, 422, "invalid", "q")
    r = client.get("/api/search", params={"q": "cat", "keywords": "1"})  # true or false only
    _is_error(client, r, 422, "invalid", "keywords")
    r = client.post("/api/search", data={"q": "cat", "weights": "text=-1"})
    _is_error(client, r, 422, "invalid", "weights")
    r = client.post("/api/classify", files=[("files", ("a.txt", b"a note", "text/plain"))],
                    data={"labels": " , ,"})  # fmt: skip
    _is_error(client, r, 422, "invalid", "labels")
    r = client.post("/api/transcribe", files=[("files", ("a.txt", b"a note", "text/plain"))],
                    data={"language": "klingon"})  # fmt: skip
    _is_error(client, r, 422, "invalid", "language")
    _is_error(client, client.post("/api/search", data={"k": "3"}), 400, "usage")  # nothing
    # an empty field is refused, not taken as left out (as FastAPI alone would)
    note = {"audio": ("a.wav", b"RIFF", "audio/wav")}
    _is_error(client, client.post("/api/search", files=note, data={"q": ""}), 422, "invalid", "q")
    r = client.post("/api/transcribe", files=[("files", ("a.txt", b"a note", "text/plain"))],
                    data={"language": ""})  # fmt: skip
    _is_error(client, r, 422, "invalid", "language")


def test_what_the_schema_admits_the_server_answers(
    client: TestClient, photos: dict[str, Path]
) -> None:
    # a range whose low end is above its high end matches nothing
    r = client.get("/api/search", params={"q": "cat", "min_size": 10, "max_size": 1})
    assert r.status_code == 200 and r.json()["results"] == []
    # weights of 0 for every part given say nothing of the mix: the parts weigh the same
    data = photos["coffee"].read_bytes()
    ranked = []
    for weights in ("text=0,image=0", None):
        form = {"q": "a cup"} | ({"weights": weights} if weights else {})
        r = client.post("/api/search", files={"image": ("c.jpg", data, "image/jpeg")}, data=form)
        assert r.status_code == 200
        ranked.append([h["id"] for h in r.json()["results"]])
    assert ranked[0] == ranked[1]


def test_ask_names_the_upload_never_the_server_path(client: TestClient,
                                                    photos: dict[str, Path]) -> None:  # fmt: skip
    with photos["chelsea"].open("rb") as f:
        r = client.post("/api/ask", files={"file": ("cat.jpg", f, "image/jpeg")},
                        data={"question": "what animal is this?"})  # fmt: skip
    assert r.status_code == 200 and r.json()["path"] == "cat.jpg"
    note = {"file": ("note.txt", b"Quarterly budget review on Tuesday.", "text/plain")}
    r = client.post("/api/ask", files=note, data={"question": "what is it?"})
    _is_error(client, r, 415, "unsupported")


def test_schema_enums_are_the_librarys(schema: dict[str, Any]) -> None:
    assert get_args(routes.Kind) == KINDS and get_args(routes.Target) == TARGETS
    params = {p["name"]: p["schema"] for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert params["type"]["enum"] == list(KINDS) and params["in"]["enum"] == list(TARGETS)
    assert params["k"]["minimum"] == 1 and params["k"]["maximum"] == 100
    assert params["q"]["pattern"] == ACCEPTED and "anyOf" not in params["like"]
    transcribe = schema["components"]["schemas"]["Body_transcribe"]["properties"]
    assert "base" in transcribe["model"]["enum"] and "en" in transcribe["language"]["enum"]


def test_uploads_declare_their_media(schema: dict[str, Any]) -> None:
    ops = {op["operationId"]: op for _, _, op in _operations(schema)}
    for name, fields in UPLOADS.items():
        content = ops[name]["requestBody"]["content"]["multipart/form-data"]
        for field, types in fields.items():
            assert content["encoding"][field]["contentType"] == ", ".join(types)
    # and every upload field of every form is one of them (a new route's too)
    for name, op in ops.items():
        content = op.get("requestBody", {}).get("content", {}).get("multipart/form-data")
        ref = content["schema"]["$ref"].rsplit("/", 1)[-1] if content else None
        for field, prop in (
            schema["components"]["schemas"][ref]["properties"] if ref else {}
        ).items():
            if "contentMediaType" in prop.get("items", prop):
                assert field in UPLOADS.get(name, {}), (name, field)
                assert prop.get("items", prop)["format"] == "binary"


def _examples(node: Any) -> Iterator[tuple[dict[str, Any], Any]]:
    """(schema, example) for every example the schema documents, wherever it is."""
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list) and ("type" in node or "properties" in node):
            for example in node["examples"]:
                yield node, example
        if "example" in node and isinstance(node.get("schema"), dict):
            yield node["schema"], node["example"]
        for value in node.values():
            yield from _examples(value)
    elif isinstance(node, list):
        for value in node:
            yield from _examples(value)


def test_every_documented_example_validates(schema: dict[str, Any]) -> None:
    found = list(_examples(schema))
    assert len(found) >= 5
    for sub, example in found:
        whole = {**sub, "components": schema["components"]}
        assert jsonschema_rs.validator_for(whole).is_valid(example), (sub, example)


def test_with_a_token_every_operation_declares_it_and_answers_401(token_client: TestClient) -> None:
    schema = token_client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, method, op in _operations(schema):
        assert op["security"][0] == {"bearer": []} and "401" in op["responses"], path
        r = token_client.request(method.upper(), path.replace("{item_id}", "x").replace(
            "{job_id}", "x"))  # fmt: skip
        _is_error(token_client, r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
    ok = token_client.get("/api/health", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_thumbnail_declares_its_images(schema: dict[str, Any]) -> None:
    content = schema["paths"]["/api/items/{item_id}/thumbnail"]["get"]["responses"]["200"]
    assert set(content["content"]) == {"image/jpeg", "image/png"}
