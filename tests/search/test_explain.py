"""Explanations: each kind gives its dict (the API's keys) and its lines, built by hand and by
real searches on a small collection (a photo and its copy, sounds, speech, a note, a video);
the CLI prints the lines, ``similar`` what two files share."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

import sensorium
from sensorium.eval.datasets import TUXPAINT
from sensorium.search import Explanation
from sensorium.search.explain import TAGS, Keyword, Label, Moment, Nearness
from sensorium.search.near import explain_near
from sensorium.store.base import Near


def test_a_text_match_with_labels_and_a_keyword() -> None:
    exp = Explanation(parts={"text": 0.31, "keyword": 0.016},
                      labels=[Label("tabby cat", 0.912), Label("Egyptian cat", 0.05)],
                      words=["cat"], keyword=Keyword("cats", "name"))  # fmt: skip
    assert exp.to_dict() == {
        "parts": {"text": 0.31, "keyword": 0.016},
        "labels": [{"label": "tabby cat", "score": 0.912},
                   {"label": "Egyptian cat", "score": 0.05}],
        "words": ["cat"], "keyword": {"word": "cats", "in": "name"},
    }  # fmt: skip
    assert exp.lines() == ["matched the word “cats” in the file name",
                           "seen tabby cat 0.91, Egyptian cat 0.05"]  # fmt: skip
    # without a keyword match the words are the line; a sound's labels are heard
    heard = Explanation(labels=[Label("Sheep", 0.8)], labels_heard=True, words=["sheep"])
    assert heard.lines() == ["heard Sheep 0.80", "words sheep"]


def test_a_keyword_in_another_form_said_at_a_time() -> None:
    kw = Keyword("representatives", "said", 3.5, "represenatives", "spelling")
    assert kw.to_dict() == {"word": "representatives", "in": "said", "at": 3.5,
                            "query": "represenatives", "by": "spelling"}  # fmt: skip
    assert Explanation(keyword=kw).lines() == [
        "matched the word “representatives” in what was said at 3.5 s"
        " (for “represenatives”, by spelling)"
    ]


def test_a_recording_a_note_and_what_is_left_out() -> None:
    exp = Explanation(moment=Moment(2.0, 4.5), transcript="The conference is now being recorded",
                      text="Please pay the attached invoice before the end of March, and " * 3,
                      negative=["cat"], target="said")  # fmt: skip
    d = exp.to_dict()
    assert d["moment"] == {"start": 2.0, "end": 4.5} and d["not"] == ["cat"]
    assert d["transcript"].startswith("The conference") and d["target"] == "said"
    lines = exp.lines()
    assert lines[:2] == ["moment 2.0–4.5 s", "said “The conference is now being recorded”"]
    assert lines[2].startswith("typed “Please pay") and lines[2].endswith("…”")
    assert len(lines[2]) < 100  # a text file's text is clipped
    assert lines[3:] == ["only what is said", "without cat"]


def test_a_moment_of_a_video_seen_heard_said_written() -> None:
    exp = Explanation(moment=Moment(9.0, 13.0), seen=["lion"], heard=["Roar"], said="Lion",
                      written="ZOO", matched="seen",
                      part_scores={"seen": 0.31, "said": 0.2})  # fmt: skip
    assert exp.to_dict() == {
        "parts": {}, "moment": {"start": 9.0, "end": 13.0}, "seen": ["lion"], "heard": ["Roar"],
        "said": "Lion", "written": "ZOO", "matched": "seen",
        "part_scores": {"seen": 0.31, "said": 0.2},
    }  # fmt: skip
    assert exp.lines() == ["moment 9.0–13.0 s", "said “Lion”", "seen lion", "heard Roar",
                           "written ZOO", "matched on what is seen"]  # fmt: skip
    # a moment says what is seen even when nothing is
    assert Explanation(seen=[]).to_dict() == {"parts": {}, "seen": []}


def test_near_a_named_place_and_a_point() -> None:
    named = Nearness(10.0, 4.01, place="Paris, Île-de-France, France",
                     chosen="the most populous of 3 places called 'Paris'")  # fmt: skip
    assert Explanation(near=named).to_dict()["near"] == {
        "within_km": 10.0, "km": 4.01, "place": "Paris, Île-de-France, France",
        "chosen": "the most populous of 3 places called 'Paris'",
    }  # fmt: skip
    assert Explanation(near=named).lines() == [
        "near 4.01 km from Paris, Île-de-France, France (within 10 km; the most populous of 3 "
        "places called 'Paris')"
    ]
    point = Nearness(25.0, None, point=(48.85, 2.35))
    assert point.to_dict() == {"within_km": 25.0, "point": [48.85, 2.35]}
    assert Explanation(near=point).lines() == ["near no position, near 48.85, 2.35 (within 25 km)"]


def test_shared_labels_for_more_like_this_and_for_a_query_input() -> None:
    exp = Explanation(parts={"item": 0.93}, shared={"item": ["tabby cat", "tiger cat"]})
    assert exp.to_dict() == {"parts": {"item": 0.93}, "shared_labels": ["tabby cat", "tiger cat"]}
    assert exp.lines() == ["shares tabby cat, tiger cat"]
    exp.labels = [Label("Egyptian Mau", 0.41)]  # what is shared is the reason: it comes first
    assert exp.lines() == ["shares tabby cat, tiger cat", "seen Egyptian Mau 0.41"]
    exp = Explanation(shared={"audio": ["Sheep", "Animal", "Bleat", "Goat"], "image": ["cup"]})
    assert set(exp.to_dict()) == {"parts", "shared_audio_labels", "shared_image_labels"}
    assert exp.lines() == [
        "shares Sheep, Animal, Bleat with the sound",
        "shares cup with the image",
    ]


def test_json_is_the_dict_and_its_lines() -> None:
    exp = Explanation(parts={"text": 0.4}, seen=["lion"], moment=Moment(1.0, 2.0))
    assert exp.to_json() == exp.to_dict() | {"lines": ["moment 1.0–2.0 s", "seen lion"]}
    assert json.loads(json.dumps(exp.to_json())) == exp.to_json()
    assert Explanation().to_json() == {"parts": {}, "lines": []}


# -- real searches ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, Path], animal_video):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("media")
    for name in ("chelsea", "coffee", "rocket"):
        shutil.copy(photos[name], folder / f"{name}.jpg")
    Image.open(photos["chelsea"]).save(folder / "chelsea-copy.jpg", quality=30)
    for rel in ("animals/mammals/bovines/sheep.ogg", "animals/birds/crow.ogg"):
        shutil.copy(TUXPAINT / rel, folder / Path(rel).name)
    shutil.copy("/usr/share/asterisk/sounds/en/conf-onlyperson.wav", folder / "conference.wav")
    (folder / "march.txt").write_text("Please pay the attached invoice before the end of March.")
    shutil.copy(animal_video.path, folder / "animals.mp4")
    coll = sensorium.open(tmp_path_factory.mktemp("db"))
    assert not coll.ingest([folder]).failed
    return coll


def _every_line_tagged(exp: Explanation) -> None:
    assert exp.lines() and all(line.split(" ", 1)[0] in TAGS for line in exp.lines())


def test_a_photo_found_by_text_says_what_is_seen(collection) -> None:  # type: ignore[no-untyped-def]
    hit = collection.search("a cat", k=1, kind="image")[0]
    exp = hit.explanation
    assert isinstance(exp, Explanation) and Path(hit.item.path).stem.startswith("chelsea")
    assert exp.labels and any("cat" in lb.label for lb in exp.labels) and "cat" in exp.words
    d = hit.to_json()["explanation"]
    assert d["labels"] == [{"label": lb.label, "score": lb.score} for lb in exp.labels]
    assert d["lines"] == exp.lines() and "seen " + exp.labels[0].label in exp.lines()[0]
    _every_line_tagged(exp)


def test_a_recording_and_a_note_say_the_line_and_the_word(collection) -> None:  # type: ignore[no-untyped-def]
    hit = collection.search("who is in the conference", k=1)[0]
    exp = hit.explanation
    assert Path(hit.item.path).name == "conference.wav" and exp.transcript and exp.moment
    assert f"said “{exp.transcript}”" in exp.lines()
    assert hit.to_json()["start"] == exp.moment.start
    note = collection.search("invoice", k=1)[0]
    assert Path(note.item.path).name == "march.txt"
    assert note.explanation.to_dict()["keyword"] == {"word": "invoice", "in": "typed"}
    assert note.explanation.lines()[0] == "matched the word “invoice” in the text"
    assert any(line.startswith("typed “Please pay") for line in note.explanation.lines())


def test_a_video_moment_says_what_is_seen_said_and_matched(collection, animal_video) -> None:  # type: ignore[no-untyped-def]
    start, end, label = animal_video.intervals[0]
    hit = collection.search(label, k=1, kind="video")[0]
    exp = hit.explanation
    assert exp.moment == Moment(pytest.approx(start, abs=0.05), pytest.approx(end, abs=0.05))
    assert exp.said and label in exp.said.lower() and exp.seen is not None and exp.matched
    lines = exp.lines()
    assert lines[0] == f"moment {exp.moment.start:.1f}–{exp.moment.end:.1f} s"
    assert f"said “{exp.said}”" in lines and f"matched on what is {exp.matched}" in lines
    assert {"moment", "seen", "said", "matched", "part_scores"} <= set(exp.to_dict())


def test_near_says_how_far_and_which_place(collection) -> None:  # type: ignore[no-untyped-def]
    item = replace(collection.search("a cat", k=1)[0].item, latitude=48.8584, longitude=2.2945)
    paris = Near(48.8566, 2.3522, 10.0, "Paris, Île-de-France, France", "the only place")
    near = explain_near(paris, item)
    assert near.place == paris.place and near.km == pytest.approx(4.2, abs=0.1)
    line = Explanation(near=near).lines()[0]
    assert line.startswith(f"near {near.km:g} km from Paris, Île-de-France, France (within 10")
    point = explain_near(Near(48.8566, 2.3522, 10.0), replace(item, latitude=None))
    assert point.to_dict() == {"within_km": 10.0, "point": [48.8566, 2.3522]}


def test_similar_says_what_the_two_files_share(collection) -> None:  # type: ignore[no-untyped-def]
    cat = collection.item(next(h.item.id for h in collection.search("a cat", k=3, kind="image")
                               if h.item.path.endswith("chelsea.jpg")))  # fmt: skip
    hit = collection.similar(cat.id, k=1)[0]
    assert hit.item.path.endswith("chelsea-copy.jpg")
    shared = hit.explanation.shared["item"]
    assert shared and set(shared) <= {lb for lb, _ in cat.labels}
    assert hit.to_json()["explanation"]["shared_labels"] == shared
    assert f"shares {', '.join(shared)}" in hit.explanation.lines()

    db = str(collection.folder)
    env = {**os.environ, "COLUMNS": "400"}
    run = subprocess.run([sys.executable, "-m", "sensorium", "similar", cat.path, "-k", "1",
                          "--db", db], capture_output=True, text=True, timeout=600,
                         env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "chelsea-copy.jpg" in run.stdout and f"shares {', '.join(shared)}" in run.stdout
    as_json = subprocess.run([sys.executable, "-m", "sensorium", "similar", cat.path, "-k", "1",
                              "--db", db, "--json"], capture_output=True, text=True,
                             timeout=600)  # fmt: skip
    got = json.loads(as_json.stdout)["explanation"]
    assert got["shared_labels"] == shared and f"shares {', '.join(shared)}" in got["lines"]
