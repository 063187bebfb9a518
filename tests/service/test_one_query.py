"""One query everywhere (issue 25): the CLI, GET and POST /api/search and the library take the
same options, by the same names, and build the query through one function
(``search.syntax.parse_query``), so an option exists in every front end or in none."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import typer.main
from fastapi.testclient import TestClient

from sensorium.cli import app as cli_app
from sensorium.collection import Collection
from sensorium.service.routes import Filters, SearchOptions
from sensorium.store.base import Filter

# A cursor pins a ranking inside the serving process: a CLI run ends with its page (it pages
# with --offset). A GET carries no files.
NOT_IN_CLI = {"cursor"}
FILES = {"image", "audio"}
# API name -> the CLI's parameter, where they differ
CLI_NAME = {"q": "text", "type": "kind", "in": "target", "not": "negative",
            "keywords": "no_keywords"}  # fmt: skip
CLI_ONLY = {"show_all", "db", "as_json"}  # how a terminal shows the page, and which collection
# API name -> Collection.query's parameter (the page's own: k, offset, sort, cursor)
LIBRARY_NAME = {"q": "text", "type": "kind", "in": "target", "not": "negative"}
PAGE = {"k", "offset", "sort", "cursor"}


def _options() -> set[str]:
    return {field.alias or name for name, field in SearchOptions.model_fields.items()}


def _schema_inputs(client: TestClient) -> tuple[set[str], set[str]]:
    """(GET's query parameters, POST's form fields) as the served schema says."""
    schema = client.get("/openapi.json").json()
    get = {p["name"] for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    body = schema["paths"]["/api/search"]["post"]["requestBody"]["content"]
    ref = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return get, set(schema["components"]["schemas"][ref]["properties"])


def test_every_option_is_in_every_front_end(client: TestClient) -> None:
    options = _options()
    get, post = _schema_inputs(client)
    assert get == options | {"q"}
    assert post == options | {"q"} | FILES
    command = typer.main.get_command(cli_app).commands["search"]  # type: ignore[attr-defined]
    cli = {p.name for p in command.params}
    wanted = {CLI_NAME.get(n, n) for n in options | {"q"} | FILES if n not in NOT_IN_CLI}
    assert cli == wanted | CLI_ONLY
    # the filters are the store's own, which Collection.query takes as ``filters``
    library = set(inspect.signature(Collection.query).parameters) - {"self", "syntax"}
    filters = set(Filters.model_fields)
    wanted = {LIBRARY_NAME.get(n, n) for n in options | {"q"} | FILES} - PAGE - filters
    assert library == wanted | {"filters"}
    assert filters <= set(Filter.__dataclass_fields__)


def test_the_library_reads_the_syntax_and_takes_options_by_name(
    collection: Collection, photos: dict[str, Path]
) -> None:
    hits = collection.search("type:audio an animal", k=5)
    assert hits and all(h.item.kind == "audio" for h in hits)
    assert collection.search("type:audio an animal", k=5, kind="image") == []  # both: nothing
    listed = collection.search("type:audio", k=50)  # filters alone: the files that pass
    assert listed and {h.item.kind for h in listed} == {"audio"}
    # words that are not a query string stay words
    assert collection.search("re:budget http://x", k=1, syntax=False, keywords=False)
    with pytest.raises(TypeError):
        collection.search("a cat", photos["chelsea"])  # type: ignore[misc]


def test_post_takes_filters_and_keywords(client: TestClient, crow_ogg: Path) -> None:
    """POST dropped the filters and the keyword switch; it takes every option GET takes."""
    with crow_ogg.open("rb") as f:
        upload = {"audio": ("crow.ogg", f.read(), "audio/ogg")}
    body = client.post("/api/search", files=upload, data={"k": "5"}).json()
    assert Path(body["results"][0]["path"]).name == "crow.ogg"
    # a filter that no sound passes: none of the sounds answers
    body = client.post(
        "/api/search", files=upload, data={"k": "5", "min_size": "1000000000"}
    ).json()
    assert body["results"] == []
    only = client.post("/api/search", files=upload, data={"type": "image", "k": "3"}).json()
    assert only["results"] and all(r["type"] == "image" for r in only["results"])
    plain = client.post("/api/search", data={"q": "hello", "keywords": "false", "k": "3"}).json()
    assert not any(r["explanation"].get("keyword") for r in plain["results"])


def test_get_takes_weights(client: TestClient, collection: Collection, media_root: Path) -> None:
    """GET weighs its parts as POST does: the item asked for by ``like`` at weight 0 and the
    text at 1 is the text's own ranking."""
    crow = str(media_root / "crow.ogg")
    text = client.get("/api/search", params={"q": "a rocket", "k": 3}).json()
    weighed = client.get("/api/search", params={"q": "a rocket", "like": crow, "k": 3,
                                                "weights": "text=1,like=0"}).json()  # fmt: skip
    assert [r["id"] for r in weighed["results"]] == [
        r["id"] for r in text["results"] if r["path"] != crow
    ][: len(weighed["results"])]
    liked = client.get("/api/search", params={"q": "a rocket", "like": crow, "k": 3,
                                              "weights": "text=0,like=1"}).json()  # fmt: skip
    assert liked["results"][0]["type"] == "audio"
