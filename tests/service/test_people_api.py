"""The people API over a collection of real photos of named people: the list with crops
served by face id, a person's faces, name, merge, split, person: in /api/search, the faces
of an item in /api/items/{id}."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("dlib")
from fastapi.testclient import TestClient
from tests.service.conftest import people_app


@pytest.fixture(scope="module")
def people_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(people_app(tmp_path_factory), raise_server_exceptions=False) as c:
        yield c


def test_people_list_and_crops(people_client: TestClient) -> None:
    data = people_client.get("/api/people").json()
    assert data["enabled"] is True and len(data["people"]) == 4
    first = data["people"][0]
    assert (first["faces"], first["files"], first["name"]) == (5, 5, None)
    crop = people_client.get(first["crop_url"])
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/jpeg"
    assert crop.content[:2] == b"\xff\xd8"
    assert people_client.get("/api/faces/..%2F..%2Fetc%2Fpasswd/crop").status_code in (404, 422)
    assert people_client.get(f"/api/faces/{'0' * 40}:0/crop").status_code == 404


def test_name_search_merge_split(people_client: TestClient) -> None:
    people = people_client.get("/api/people").json()["people"]
    obama, other = people[0], people[1]
    named = people_client.post(f"/api/people/{obama['id']}/name", json={"name": "Barack Obama"})
    assert named.status_code == 200 and named.json()["name"] == "Barack Obama"
    hits = people_client.get("/api/search", params={"q": "person:obama"}).json()["results"]
    assert len(hits) == 5
    faces = people_client.get(f"/api/people/{obama['id']}/faces").json()["faces"]
    assert len(faces) == 5 and all("path" not in f for f in faces)
    merged = people_client.post(f"/api/people/{obama['id']}/merge",
                                json={"others": [other["id"]]})  # fmt: skip
    assert merged.json()["faces"] == 6
    split = people_client.post("/api/people/split", json={"faces": [other["face"]]})
    assert split.status_code == 200 and split.json()["faces"] == 1
    assert people_client.get("/api/people/999999/faces").status_code == 404
    bad = people_client.post(f"/api/people/{obama['id']}/name", json={"name": "  "})
    assert bad.status_code == 422


def test_item_details_name_the_faces(people_client: TestClient) -> None:
    hits = people_client.get("/api/search", params={"q": "person:obama"}).json()["results"]
    item = people_client.get(f"/api/items/{hits[0]['id']}").json()
    (face,) = item["people"]
    assert face["name"] == "Barack Obama" and face["crop_url"].startswith("/api/faces/")
