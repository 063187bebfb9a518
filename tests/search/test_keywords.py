"""Keyword search on what was said and typed, on real recordings the engine transcribes: a
word as said beats another form of it that the meaning ranks higher, another form is found
by stem and a misspelt word by spelling, each explained with the word the item holds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import sensorium
from sensorium.eval.datasets import ASTERISK, tuxpaint_stamps

# Asterisk prompts, 1-8 s each, and what tiny.en hears in them
RECORDINGS = {
    "vm-tempgreetactive": "Your temporary greeting is currently active.",
    "activated": "Activated.",
    "conf-now-recording": "The conference is now being recorded.",
    "to-rerecord-it": "Do we record it?",
    "number": "Number",
    "queue-periodic-announce": "All of our representatives are currently busy, ...",
}
NOTES = ("We remember those who have died.", "A hand.", "“Toilets”.", "Eddie the Helicopter.",
         "Remember to flush the toilet and wash your hands with soap!")  # fmt: skip


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("media")
    for name in RECORDINGS:
        shutil.copy(ASTERISK / f"{name}.wav", folder / f"{name}.wav")
    captions = {s.caption for s in tuxpaint_stamps()}
    for i, note in enumerate(NOTES):
        assert note in captions  # real captions, as they are
        (folder / f"note{i}.txt").write_text(note)
    coll = sensorium.open(tmp_path_factory.mktemp("db"))
    report = coll.ingest([folder])
    assert not report.failed and report.added == len(RECORDINGS) + len(NOTES)
    return coll


def _first(collection, text: str, **options):  # type: ignore[no-untyped-def]
    hit = collection.search(text, k=3, **options)[0]
    keyword = hit.explanation.keyword
    return Path(hit.item.path).stem, keyword and keyword.to_dict()


def test_the_word_as_said_comes_before_its_other_forms(collection) -> None:  # type: ignore[no-untyped-def]
    """Recordings that say "activated" and "do we record it" are near "active" and "recorded" in
    meaning, and hold them by stem: the ones that say the words themselves come first."""
    assert _first(collection, "active") == (
        "vm-tempgreetactive",
        {"word": "active", "in": "said", "at": 0.0},
    )
    # two recordings say "recorded" as Whisper hears them ("The conference is now being
    # recorded", and "to re-record it", heard as "To be recorded" or "Do we record it?"):
    # one of them comes first, found by the word as said, not by its stem
    name, said = _first(collection, "recorded")
    assert name in ("conf-now-recording", "to-rerecord-it"), name
    assert said["word"] == "recorded" and "query" not in said
    assert _first(collection, "toilet")[0] == "note4"  # typed as written, not "Toilets"
    assert _first(collection, "toilets")[0] == "note2"


def test_another_form_and_a_misspelling_are_found_and_explained(collection) -> None:  # type: ignore[no-untyped-def]
    assert _first(collection, "numbers") == (
        "number",
        {"word": "number", "in": "said", "at": 0.0, "query": "numbers", "by": "stem"},
    )
    name, said = _first(collection, "represenatives")  # one letter short
    assert name == "queue-periodic-announce"
    assert said == {"word": "representatives", "in": "said", "at": 0.0,
                    "query": "represenatives", "by": "spelling"}  # fmt: skip
    # a filter still applies: no recording when only texts are asked for
    hits = collection.search("represenatives", k=3, kind="text")
    assert hits and all(h.item.kind == "text" for h in hits)
    assert all(h.explanation.keyword is None for h in hits)


def test_stop_words_alone_are_searched_and_otherwise_left_out(collection) -> None:  # type: ignore[no-untyped-def]
    assert _first(collection, "those") == ("note0", {"word": "those", "in": "typed"})
    # "the" is in three notes and a recording, but "the hand" looks up "hand" only
    keyed = [h for h in collection.search("the hand", k=10) if "keyword" in h.parts]
    assert {Path(h.item.path).stem for h in keyed} == {"note1", "note4"}
    assert keyed[0].explanation.keyword.to_dict() == {"word": "hand", "in": "typed"}
