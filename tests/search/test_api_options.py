"""The new search options over HTTP: negative terms, filters, keywords, like, duplicates."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from PIL import Image

from sensorium.collection import Collection
from sensorium.service import ServiceConfig, create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, Path],
           crow_ogg: Path) -> Iterator[TestClient]:  # fmt: skip
    root = tmp_path_factory.mktemp("root")
    for p in [*photos.values(), crow_ogg]:
        shutil.copy(p, root / p.name)
    Image.open(photos["coffee"]).save(root / "coffee-copy.jpg", quality=40)
    (root / "bill.txt").write_text("The invoice is overdue.")
    coll = Collection(tmp_path_factory.mktemp("db"))
    assert not coll.ingest([root]).failed
    coll.serve()  # as the service would: searches from memory
    with TestClient(create_app(ServiceConfig(coll.folder, (root,), 2, None), coll)) as c:
        yield c


def test_get_search_options(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "invoice"}).json()["results"]
    assert r[0]["path"].endswith("bill.txt") and r[0]["explanation"]["keyword"]["in"] == "typed"
    r = client.get("/api/search", params={"q": "a drink", "not": "cup", "type": "image"}).json()
    assert r["results"][0]["explanation"]["not"] == ["cup"]
    r = client.get("/api/search", params={"q": "a sound", "min_duration": 0.5}).json()["results"]
    assert r and all(x["type"] == "audio" for x in r)
    assert client.get("/api/search", params={"q": "x", "since": 4e9}).json()["results"] == []
    # a range whose low end is above its high end is a valid request that matches nothing
    # (the schema admits it: issue 27's contract)
    empty = client.get("/api/search", params={"q": "x", "min_size": 5, "max_size": 1})
    assert empty.status_code == 200 and empty.json()["results"] == []


def test_like_similar_and_duplicates(client: TestClient) -> None:
    cup = client.get("/api/search", params={"q": "a cup of coffee", "k": 1}).json()["results"][0]
    like = client.get("/api/search", params={"q": "coffee", "like": cup["id"]}).json()["results"]
    assert cup["id"] not in [x["id"] for x in like]
    sim = client.get(f"/api/items/{cup['id']}/similar", params={"type": "image"}).json()
    assert sim["results"] and cup["id"] not in [x["id"] for x in sim["results"]]
    groups = client.get("/api/duplicates").json()["groups"]
    assert [sorted(Path(i["path"]).name for i in g["items"]) for g in groups] == [
        ["coffee-copy.jpg", "coffee.jpg"]
    ]
