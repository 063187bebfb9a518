"""ask(): questions answered from what is perceived, on real images and speech: the astronaut
(one smiling face), a cup of coffee, Tux Paint's STOP sign and red apple, a spoken prompt; and
on videos built from them (the animals named aloud, a person then a sign), answered per segment
with its time."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensorium.engine import Engine
from sensorium.eval.datasets import TUXPAINT
from sensorium.eval.metrics import normalize_text
from sensorium.eval.videos import Shot, write_video
from sensorium.perceive.ask import CANT_TELL, ask, colour_name, question_kind

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.mark.parametrize(
    ("question", "kind"),
    [("what's pictured here?", "shown"), ("what words are on the sign?", "written"),
     ("count the faces", "count"), ("does she look happy?", "mood"),
     ("which colours are used?", "colour"), ("who is that man?", "identity"),
     ("what is the speaker saying?", "said"), ("when does the dog bark?", "when"),
     ("at what time is the lion shown?", "when"), ("when was this video filmed?", "place_time")],
)  # fmt: skip
def test_question_kinds_by_meaning(engine: Engine, question: str, kind: str) -> None:
    assert question_kind(question, engine)[0] == kind


def test_people_and_their_mood(engine: Engine, photos: dict[str, Path]) -> None:
    a = ask(photos["astronaut"], "how many people are there?", engine)
    assert a.kind == "count" and a.answer.startswith("1") and a.confidence > 0.5
    assert a.evidence[0]["from"] == "faces"
    m = ask(photos["astronaut"], "is she smiling?", engine)
    assert "smiling" in m.answer and m.to_json()["evidence"][0]["what"] == "happy"
    assert ask(photos["coffee"], "how many people are there?", engine).answer.startswith("no one")


def test_refuses_what_is_not_perceived(engine: Engine, photos: dict[str, Path]) -> None:
    for q in ("what is the person's name?", "where was this taken?", "what's the weather?"):
        a = ask(photos["astronaut"], q, engine)
        assert a.answer == CANT_TELL and a.confidence == 0 and not a.answered
    assert ask(photos["coffee"], "is she smiling?", engine).answer == CANT_TELL


def test_reads_a_sign_and_names_colours(engine: Engine) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    a = ask(TUXPAINT / "town/roadsigns/stop.png", "what does the sign say?", engine)
    assert a.answer == "STOP" and a.evidence[0]["from"] == "ocr"
    c = ask(TUXPAINT / "food/fruit/apple_red.png", "what colour is it?", engine)
    assert c.answer.startswith("red") and c.evidence[0]["from"] == "pixels"


def test_colour_names() -> None:
    assert [colour_name(c) for c in ((250, 10, 10), (10, 200, 30), (20, 40, 230), (5, 5, 5),
                                     (250, 250, 250), (128, 128, 128), (120, 70, 20))] == [
        "red", "green", "blue", "black", "white", "grey", "brown"]  # fmt: skip


def test_what_is_said(engine: Engine, hello_wav: Path) -> None:
    a = ask(hello_wav, "what does the speaker say?", engine)
    assert a.kind == "said" and a.answered and a.evidence[0]["from"] == "speech"
    assert ask(hello_wav, "what colour is it?", engine).answer == CANT_TELL


def test_a_broken_file_is_an_error(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    a = ask(bad, "what is this?", engine)
    assert a.error and "error" in a.to_json()


def _times(answer) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [(e["start"], e["end"]) for e in answer.evidence]


def test_video_what_is_said_seen_heard_and_when(engine: Engine, animal_video) -> None:  # type: ignore[no-untyped-def]
    """Elephant 0-4 s, penguin 4-9 s, lion 9-13 s, each named aloud in its shot."""
    path = animal_video.path
    said = ask(path, "what is said?", engine)
    assert [normalize_text(w) for w in said.answer.split()] == ["elephant", "penguin", "lion"]
    assert _times(said) == [(0.0, 4.0), (4.0, 9.0), (9.0, 13.0)]
    assert {e["from"] for e in said.evidence} == {"speech"}
    when = ask(path, "when is the penguin shown?", engine)
    assert when.kind == "when" and when.answer == "at 4.0-9.0 s" and _times(when) == [(4.0, 9.0)]
    assert when.evidence[0]["from"] == "image"
    spoken = ask(path, "when is the word lion said?", engine)
    assert _times(spoken) == [(9.0, 13.0)] and spoken.evidence[0]["from"] == "speech"
    lion = ask(path, "is there a lion?", engine)
    assert lion.answer.startswith("yes: lion") and _times(lion) == [(9.0, 13.0)]
    assert ask(path, "is there a car?", engine).answer.startswith("no:")
    assert "Speech" in ask(path, "what can be heard?", engine).answer
    for q in ("when does the car appear?", "who is speaking?", "where was this filmed?"):
        a = ask(path, q, engine)
        assert a.answer == CANT_TELL and a.confidence == 0 and a.error is None


def test_video_people_text_and_silence(engine: Engine, photos: dict[str, Path],
                                       tmp_path: Path) -> None:  # fmt: skip
    """The astronaut for 2 s, then Tux Paint's STOP sign for 2 s, over a silent track."""
    pytest.importorskip("rapidocr_onnxruntime")
    shots = [Shot(photos["astronaut"], 2.0), Shot(TUXPAINT / "town/roadsigns/stop.png", 2.0)]
    path = write_video(tmp_path / "person-sign.mp4", shots, size=(320, 320), audio="silent").path
    people = ask(path, "how many people are there?", engine)
    assert people.answer.startswith("1") and _times(people) == [(0.0, 2.0)]
    assert "smiling" in ask(path, "is she smiling?", engine).answer
    sign = ask(path, "what does the sign say?", engine)
    assert sign.answer == "STOP (2.0-4.0 s)" and sign.evidence[0]["from"] == "ocr"
    assert ask(path, "what is said?", engine).answer == CANT_TELL
    assert ask(path, "what can be heard?", engine).answer.startswith("silence")


def test_a_broken_video_is_an_error(engine: Engine, animal_video, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(animal_video.path.read_bytes()[:5000])
    a = ask(cut, "who is this?", engine)
    assert a.error and a.path.endswith("cut.mp4") and "cut.mp4" not in a.error  # named once
