"""Searches' answers kept by the service (state.Answers): the same request gets the same
answer without ranking again, and a commit (an ingest, a watched file) is never answered
from before it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sensorium.collection import Collection
from sensorium.service import ServiceConfig, create_app
from sensorium.service.state import Answers


def test_answers_are_bounded_and_least_recently_used_go_first() -> None:
    kept = Answers(size=2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # a is now the most recent
    kept.put("c", 3)
    assert (kept.get("b"), kept.get("a"), kept.get("c"), len(kept)) == (None, 1, 3, 2)
    assert (kept.hits, kept.misses) == (3, 1)


def _paths(client: TestClient, q: str) -> list[str]:
    r = client.get("/api/search", params={"q": q, "k": 3})
    assert r.status_code == 200, r.text
    return [Path(h["path"]).name for h in r.json()["results"]]


def test_a_kept_answer_until_the_collection_changes(tmp_path: Path,
                                                    photos: dict[str, Path]) -> None:  # fmt: skip
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(photos["astronaut"], folder / "astronaut.jpg")
    coll = Collection(tmp_path / "db")
    coll.ingest([folder])
    app = create_app(ServiceConfig(coll.folder, warm=True), coll)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = app.state.service.answers
        first = client.get("/api/search", params={"q": "a cup of coffee", "k": 3}).json()
        hits = answers.hits
        again = client.get("/api/search", params={"q": "a cup of coffee", "k": 3}).json()
        assert answers.hits == hits + 1  # kept: not ranked again
        assert {**again, "seconds": 0} == {**first, "seconds": 0}
        assert _paths(client, "a cup of coffee") == ["astronaut.jpg"]
        shutil.copy(photos["coffee"], folder / "coffee.jpg")
        coll.ingest([folder])  # a commit: a new version, nothing kept from before it
        assert _paths(client, "a cup of coffee")[0] == "coffee.jpg"
        other = client.get("/api/search", params={"q": "a cup of coffee", "k": 1}).json()
        assert len(other["results"]) == 1  # another request (k) is another answer


@pytest.mark.parametrize("bad", [{"k": "0"}, {"min_size": "-1"}, {"near": ","}])
def test_a_refused_request_is_not_kept(client: TestClient, bad: dict[str, str]) -> None:
    for _ in range(2):
        r = client.get("/api/search", params={"q": "a cat", **bad})
        assert r.status_code == 422 and r.json()["error"] == "invalid", r.text
