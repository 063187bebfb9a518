"""/api/search in other languages: the same first result as the English query."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def _first(client: TestClient, q: str) -> str:
    body = client.get("/api/search", params={"q": q, "k": 3, "type": "image"}).json()
    return str(body["results"][0]["path"]).rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("english", "other"),
    [("a cat", "eine Katze"), ("a cat", "一只猫"), ("a cup of coffee", "une tasse de café")],
)
def test_other_language_finds_what_english_finds(client: TestClient, english: str,
                                                 other: str) -> None:  # fmt: skip
    assert _first(client, other) == _first(client, english)
