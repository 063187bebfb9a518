"""Search on a small real collection: each query modality, weights, filters, explanations."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sensorium
from sensorium.errors import UsageError
from sensorium.eval.datasets import TUXPAINT
from sensorium.search.query import Query, _like, parse_weights, where_clause
from sensorium.search.syntax import parse_query
from sensorium.store.base import Filter


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, Path]):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("media")
    for name, p in photos.items():
        shutil.copy(p, folder / f"{name}.jpg")
    for rel in (
        "animals/birds/crow.ogg",
        "animals/mammals/bovines/sheep.ogg",
        "animals/mammals/dogs/dog.ogg",
    ):
        shutil.copy(TUXPAINT / rel, folder / Path(rel).name)
    shutil.copy("/usr/share/asterisk/sounds/en/conf-onlyperson.wav", folder / "conference.wav")
    coll = sensorium.open(tmp_path_factory.mktemp("db"))
    coll.ingest([folder])
    return coll


def test_text_finds_photo_and_speech(collection) -> None:  # type: ignore[no-untyped-def]
    assert Path(collection.search("a cat", k=1)[0].item.path).name == "chelsea.jpg"
    hit = collection.search("who is in the conference", k=1)[0]
    assert Path(hit.item.path).name == "conference.wav"
    assert "conference" in hit.explanation.transcript.lower()
    assert hit.explanation.moment.end > 2.0 and "conference" in hit.explanation.words


def test_photo_and_sound_queries(collection, photos: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    hits = collection.search(image=photos["coffee"], k=2, kind="image")
    assert Path(hits[0].item.path).name == "coffee.jpg" and hits[0].parts["image"] > 0.99
    sheep = TUXPAINT / "animals/mammals/bovines/sheep.ogg"
    hits = collection.search(audio=sheep, k=3, kind="audio")
    assert Path(hits[0].item.path).name == "sheep.ogg"
    assert "Sheep" in hits[0].explanation.shared["audio"]
    assert all(h.item.kind == "audio" for h in hits)


def test_weights_and_agreement(collection, photos: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    hits = collection.search(
        "a bird", image=photos["chelsea"], weights={"text": 1, "image": 0}, k=1
    )
    assert Path(hits[0].item.path).name == "crow.ogg"
    both = collection.search("a cat", image=photos["chelsea"], k=3)
    assert Path(both[0].item.path).name == "chelsea.jpg"
    assert set(both[0].parts) == {"text", "image"}


def test_path_filter(collection) -> None:  # type: ignore[no-untyped-def]
    hits = collection.search("an animal", path="*.ogg", k=10)
    assert hits and all(h.item.path.endswith(".ogg") for h in hits)
    assert _like("photos/*.jpg") == "%photos/%.jpg"
    assert where_clause(Query(text="x", filters=Filter(kind="image"))) == "kind = 'image'"


def test_bad_queries() -> None:
    with pytest.raises(UsageError):
        Query()
    with pytest.raises(UsageError):
        parse_query("x", kind="pdf")
    with pytest.raises(UsageError):
        parse_weights("text=lots")
    assert parse_weights("text=1, image=0.5") == {"text": 1.0, "image": 0.5}


def test_cli_search_json_and_stats(collection) -> None:  # type: ignore[no-untyped-def]
    db = str(collection.folder)
    run = lambda *a: subprocess.run([sys.executable, "-m", "sensorium", *a, "--db", db],  # noqa: E731
                                    capture_output=True, text=True, timeout=300)  # fmt: skip
    p = run("search", "a cup of coffee", "-k", "2", "--json")
    assert p.returncode == 0, p.stderr
    first = json.loads(p.stdout.splitlines()[0])
    assert {"path", "score", "type", "explanation"} <= set(first) and first["path"].endswith(
        "coffee.jpg"
    )
    s = json.loads(run("stats", "--json").stdout)
    assert s["items"] == 8 and s["failed"] == 0
    shown = json.loads(run("show", first["path"]).stdout)
    assert shown["kind"] == "image" and shown["vector_dim"] == 384
    assert run("show", "/no/such/file").returncode == 2
