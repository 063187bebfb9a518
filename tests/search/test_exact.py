"""A text query that is a stored text word for word finds that item first, however many
near-identical texts share its vector (the encoder ignores case and accents) or tie with it
on keywords (BM25 stems "Caesar's", "Caesars" and "Caesar" alike)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sensorium

TEXTS = ["resume", "Resume", "résumé", "resumes", "resume's", "Caesar", "Caesars",
         "Caesar's", "Pauling", "Pauling's", "Paul", "Paul's", "raining", "rain", "rains",
         "rained", "rainy"]  # fmt: skip


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("texts")
    for i, text in enumerate(TEXTS):
        (folder / f"{i:02d}.txt").write_text(text)
    coll = sensorium.open(tmp_path_factory.mktemp("db"))
    assert coll.ingest([folder]).added == len(TEXTS)
    return coll


@pytest.mark.parametrize("serve", [False, True])
def test_a_stored_text_comes_first_for_itself(collection, serve: bool) -> None:  # type: ignore[no-untyped-def]
    if serve:
        collection.serve()
    try:
        for text in TEXTS:
            hits = collection.search(text, k=3)
            assert hits[0].item.text == text, (text, [h.item.text for h in hits])
            assert hits[0].parts["keyword"] == 1.0
        # The same up to case and spacing: "résumé", not "resume" (one vector with it).
        assert collection.search("  RÉSUMÉ ", k=1)[0].item.text == "résumé"
    finally:
        collection.index = None


def test_an_exact_text_does_not_override_other_query_parts(collection) -> None:  # type: ignore[no-untyped-def]
    """Only a plain text query is promoted: without keywords the order is the meaning's."""
    plain = collection.search("Caesar's", k=3, keywords=False)
    assert all("keyword" not in h.parts for h in plain)
    assert Path(plain[0].item.path).suffix == ".txt"
