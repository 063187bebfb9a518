"""triage(): support tickets of text, a rendered error screenshot, a real voice prompt
(Asterisk) and a Tux Paint product photo, with the real models; a missing modality is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from sensorium.engine import Engine
from sensorium.eval.datasets import ASTERISK, TUXPAINT
from sensorium.perceive.triage import Triage, load_config, triage

pytest.importorskip("vaderSentiment")
pytest.importorskip("nrclex")

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def error_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real Windows error message, rendered as a dialog."""
    out = tmp_path_factory.mktemp("triage") / "error.png"
    img = Image.new("RGB", (640, 200), (240, 240, 240))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, 640, 38], fill=(0, 84, 166))
    d.text((14, 8), "Application Error", font=ImageFont.truetype(FONT, 19), fill="white")
    font = ImageFont.truetype(FONT, 17)
    d.text((24, 64), "The application was unable to start correctly (0xc000007b).", font=font,
           fill="black")  # fmt: skip
    d.text((24, 94), "Click OK to close the application.", font=font, fill="black")
    img.save(out)
    return out


def _sources(result: Triage) -> set[str]:
    return {e["from"] for e in result.category["evidence"]}


def test_text_only(engine: Engine) -> None:
    r = triage(text="I was charged twice for my order, please refund me.", engine=engine)
    j = r.to_json()
    assert j["modalities"] == ["text"] and j["category"]["label"] == "billing"
    assert _sources(r) == {"text"} and j["sentiment"]["from"] == ["text"]
    assert "image" not in j and "speech" not in j and "product" not in j
    assert "refund" in j["reply"]["text"]


def test_image_only_screenshot(engine: Engine, error_png: Path) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    j = triage(image=error_png, engine=engine).to_json()
    assert j["modalities"] == ["image"] and j["category"]["label"] == "software_error"
    assert "0xc0" in j["image"]["error_text"].lower() and j["image"]["from"] == "image"
    assert {e["from"] for e in j["category"]["evidence"]} == {"image"}
    assert "sentiment" not in j and "speech" not in j  # no customer words: no feelings
    assert any(e["what"] == "an error message in the screenshot" for e in j["urgency"]["evidence"])


def test_audio_only_voice_message(engine: Engine) -> None:
    j = triage(audio=ASTERISK / "auth-incorrect.wav", engine=engine).to_json()
    assert j["modalities"] == ["audio"] and "password" in j["speech"]["transcript"].lower()
    assert j["category"]["label"] == "account_access" and j["category"]["from"] == ["audio"]
    assert j["sentiment"]["from"] == ["audio"] and "image" not in j
    assert "voice message" in j["reply"]["text"]


def test_mixed_ticket_with_product(engine: Engine, tmp_path: Path) -> None:
    from sensorium.collection import Collection

    db = tmp_path / "products"
    stamps = ["household/kettle.png", "household/dishes/mug.png", "household/tools/hammer.png",
              "clothes/t_jacket.png"]  # fmt: skip
    Collection(db, engine).ingest([str(TUXPAINT / s) for s in stamps])
    r = triage("The mug arrived broken, the handle snapped off.",
               image=TUXPAINT / "household/dishes/mug.png", products=db, engine=engine)  # fmt: skip
    j = r.to_json()
    assert j["modalities"] == ["text", "image"] and j["category"]["label"] == "damaged"
    assert _sources(r) == {"text", "image"}
    assert j["product"]["name"] == "mug" and j["product"]["from"] == ["text", "image"]
    assert "mug" in j["reply"]["text"] and "product" in j["reply"]["from"]


def test_missing_or_broken_modality_is_absent(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "voice.wav"
    bad.write_bytes(b"not audio at all")
    j = triage(text="Where is my parcel? It has not arrived.", audio=bad, engine=engine).to_json()
    assert j["modalities"] == ["text"] and "speech" not in j and "audio" in j["errors"]
    assert j["category"]["label"] == "delivery"
    with pytest.raises(ValueError, match="needs text"):
        triage(text="  ", engine=engine)


def test_angry_text_is_negative_and_more_urgent(engine: Engine) -> None:
    calm = triage(text="Could you tell me when my order will be delivered?", engine=engine)
    angry = triage(text="THIS IS UNACCEPTABLE! My order is lost again and nobody answers. "
                   "I am furious, fix it immediately!", engine=engine)  # fmt: skip
    assert angry.sentiment is not None and angry.sentiment["label"] == "negative"
    assert angry.urgency["score"] > calm.urgency["score"] + 0.3
    assert angry.urgency["level"] in ("high", "critical") and calm.urgency["level"] == "low"
    assert angry.emotion is not None and "anger" in angry.emotion["scores"]
    assert "sorry" in angry.reply["text"].lower() and "priority" in angry.reply["text"]


def test_config_names_a_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text("[categories.x]\nreply = 'hi'\n")
    with pytest.raises(ValueError, match=r"t\.toml"):
        load_config(bad)
