"""Keywords fused with meaning, negative terms, more like this, filters, near-duplicates and
the serving index against the store, on a small real collection."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageOps

import sensorium
from sensorium.errors import UsageError
from sensorium.eval.datasets import TUXPAINT
from sensorium.search.explain import Keyword
from sensorium.store.base import Filter


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, Path]):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("media")
    for name, p in photos.items():
        shutil.copy(p, folder / f"{name}.jpg")
    cat = Image.open(photos["chelsea"])
    cat.save(folder / "copy-q30.jpg", quality=30)  # near-duplicates of chelsea.jpg
    ImageOps.mirror(cat).resize((cat.width // 2, cat.height // 2)).save(folder / "copy-flip.jpg")
    for rel in ("animals/birds/crow.ogg", "animals/mammals/bovines/sheep.ogg"):
        shutil.copy(TUXPAINT / rel, folder / Path(rel).name)
    shutil.copy("/usr/share/asterisk/sounds/en/conf-onlyperson.wav", folder / "meeting.wav")
    (folder / "march.txt").write_text("Please pay the attached invoice before the end of March.")
    (folder / "quarterly_budget.txt").write_text("Figures for the next three months.")
    coll = sensorium.open(tmp_path_factory.mktemp("db"))
    report = coll.ingest([folder])
    assert not report.failed
    return coll


def _names(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(h.item.path).name for h in hits]


def test_keywords_said_typed_and_named(collection) -> None:  # type: ignore[no-untyped-def]
    hit = collection.search("invoice", k=1)[0]
    assert _names([hit]) == ["march.txt"]
    assert hit.explanation.keyword == Keyword("invoice", "typed")
    hit = collection.search("budget", k=1)[0]
    assert _names([hit]) == ["quarterly_budget.txt"] and hit.explanation.keyword.where == "name"
    said = [h for h in collection.search("conference", k=5) if h.explanation.keyword]
    assert _names(said) == ["meeting.wav"]
    keyword = said[0].explanation.keyword
    assert keyword is not None and keyword.where == "said" and keyword.at is not None
    plain = collection.search("invoice", k=3, keywords=False)
    assert all("keyword" not in h.parts for h in plain)


def test_negative_terms(collection) -> None:  # type: ignore[no-untyped-def]
    hits = collection.search("an animal", k=10, kind="image")
    without = collection.search("an animal -cat", k=10, kind="image")
    assert _names(without) == _names(
        collection.search("an animal", negative="cat", k=10, kind="image")
    )
    rank = lambda hs: _names(hs).index("chelsea.jpg")  # noqa: E731
    assert rank(without) > rank(hits) and without[0].explanation.negative == ["cat"]
    with pytest.raises(UsageError):
        collection.search("-cat")


def test_more_like_this_any_kind(collection) -> None:  # type: ignore[no-untyped-def]
    sheep = next(h.item for h in collection.search("sheep", k=3, kind="audio"))
    for key in (sheep.id, sheep.path):
        hits = collection.similar(key, k=3)
        assert sheep.path not in [h.item.path for h in hits] and hits[0].item.kind == "audio"
    text = collection.similar(collection.item(str(Path(sheep.path).with_name("march.txt"))).id, k=2)
    assert text and all(h.item.path.endswith(".txt") or h.item.kind for h in text)
    liked = collection.search(like=sheep.path, k=2)
    assert sheep.path not in [h.item.path for h in liked] and "like" in liked[0].parts


def test_filters_through_search(collection) -> None:  # type: ignore[no-untyped-def]
    long = collection.search("a sound", k=10, filters=Filter(min_duration=2.0))
    assert long and all(h.item.duration >= 2.0 for h in long)
    small = collection.search("a photo", k=10, filters=Filter(max_size=60_000))
    assert all(h.item.size <= 60_000 for h in small)
    assert collection.search("a photo", k=10, filters=Filter(since=4e9)) == []


def test_duplicates_group_copies(collection) -> None:  # type: ignore[no-untyped-def]
    groups = collection.duplicates()
    assert len(groups) == 1, [g.paths for g in groups]
    assert sorted(Path(p).name for p in groups[0].paths) == ["chelsea.jpg", "copy-flip.jpg",
                                                              "copy-q30.jpg"]  # fmt: skip
    assert Path(groups[0].paths[0]).name == "chelsea.jpg"  # the largest is the one to keep
    assert groups[0].to_json()["items"][0]["similarity"] == 1.0


def test_serving_index_answers_as_the_store(collection) -> None:  # type: ignore[no-untyped-def]
    queries = ["a cat", "invoice", "an animal -cat", "where does she say conference"]
    before = [[(h.item.id, round(h.score, 4)) for h in collection.search(q, k=5)] for q in queries]
    collection.serve()
    try:
        after = [
            [(h.item.id, round(h.score, 4)) for h in collection.search(q, k=5)] for q in queries
        ]
        assert after == before
        chelsea = next(h.item for h in collection.search("a cat", k=1))
        assert collection.show(chelsea.path).id == chelsea.id  # type: ignore[union-attr]
    finally:
        collection.index = None
