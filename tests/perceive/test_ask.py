"""ask(): questions answered from what is perceived, on real images and speech: the astronaut
(one smiling face), a cup of coffee, Tux Paint's STOP sign and red apple, a spoken prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensorium.eval.datasets import TUXPAINT
from sensorium.perceive.ask import CANT_TELL, ask, colour_name, question_kind
from sensorium.space import SharedSpace

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def space() -> SharedSpace:
    return SharedSpace()


@pytest.mark.parametrize(
    ("question", "kind"),
    [("what's pictured here?", "shown"), ("what words are on the sign?", "written"),
     ("count the faces", "count"), ("does she look happy?", "mood"),
     ("which colours are used?", "colour"), ("who is that man?", "identity"),
     ("what is the speaker saying?", "said")],
)  # fmt: skip
def test_question_kinds_by_meaning(space: SharedSpace, question: str, kind: str) -> None:
    assert question_kind(question, space)[0] == kind


def test_people_and_their_mood(space: SharedSpace, photos: dict[str, Path]) -> None:
    a = ask(photos["astronaut"], "how many people are there?", space)
    assert a.kind == "count" and a.answer.startswith("1") and a.confidence > 0.5
    assert a.evidence[0]["from"] == "faces"
    m = ask(photos["astronaut"], "is she smiling?", space)
    assert "smiling" in m.answer and m.to_json()["evidence"][0]["what"] == "happy"
    assert ask(photos["coffee"], "how many people are there?", space).answer.startswith("no one")


def test_refuses_what_is_not_perceived(space: SharedSpace, photos: dict[str, Path]) -> None:
    for q in ("what is the person's name?", "where was this taken?", "what's the weather?"):
        a = ask(photos["astronaut"], q, space)
        assert a.answer == CANT_TELL and a.confidence == 0 and not a.answered
    assert ask(photos["coffee"], "is she smiling?", space).answer == CANT_TELL


def test_reads_a_sign_and_names_colours(space: SharedSpace) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    a = ask(TUXPAINT / "town/roadsigns/stop.png", "what does the sign say?", space)
    assert a.answer == "STOP" and a.evidence[0]["from"] == "ocr"
    c = ask(TUXPAINT / "food/fruit/apple_red.png", "what colour is it?", space)
    assert c.answer.startswith("red") and c.evidence[0]["from"] == "pixels"


def test_colour_names() -> None:
    assert [colour_name(c) for c in ((250, 10, 10), (10, 200, 30), (20, 40, 230), (5, 5, 5),
                                     (250, 250, 250), (128, 128, 128), (120, 70, 20))] == [
        "red", "green", "blue", "black", "white", "grey", "brown"]  # fmt: skip


def test_what_is_said(space: SharedSpace, hello_wav: Path) -> None:
    a = ask(hello_wav, "what does the speaker say?", space)
    assert a.kind == "said" and a.answered and a.evidence[0]["from"] == "speech"
    assert ask(hello_wav, "what colour is it?", space).answer == CANT_TELL


def test_a_broken_file_is_an_error(space: SharedSpace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    a = ask(bad, "what is this?", space)
    assert a.error and "error" in a.to_json()
