"""Files described in words, on real media: a photo, a road sign, a crow, a spoken sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensorium import media
from sensorium.encoders.caption import Captioner
from sensorium.eval.datasets import TUXPAINT
from sensorium.perceive import describe, iter_describe

SIGN = TUXPAINT / "town/roadsigns/hospital.png"


def test_images_and_sounds_in_words(
    photos: dict[str, Path], crow_ogg: Path, hello_wav: Path, tmp_path: Path
) -> None:
    note = tmp_path / "note.txt"
    note.write_text("words already")
    cat, crow, hello, text = describe([photos["chelsea"], crow_ogg, hello_wav, note], read=False)
    assert cat.kind == "image" and any("cat" in lb.lower() or "mau" in lb.lower()
                                       for lb, _ in cat.labels)  # fmt: skip
    assert cat.written is None and cat.said is None and cat.caption is None
    # The float YAMNet hears "Animal" 0.84, "Crow" 0.74, "Caw" 0.59: the parent class first.
    assert crow.kind == "audio" and "Crow" in [lb for lb, _ in crow.labels[:3]]
    assert crow.said is None
    assert hello.said is not None and hello.said.lower().startswith("hello world")
    assert text.error is not None and "text" in text.error


def test_text_is_read_only_when_asked(photos: dict[str, Path]) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    (quiet,) = describe([SIGN], read=False)
    sign, cat = describe([SIGN, photos["chelsea"]], read=True)
    assert quiet.written is None and sign.written == "HOSPITAL" and cat.written is None


def test_text_that_cannot_be_read_is_a_warning(
    photos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    from sensorium.engine import Engine

    engine = Engine()

    def broken(image: object) -> None:
        raise RuntimeError("engine fault")

    monkeypatch.setattr(engine.reader, "engine", broken)
    (d,) = iter_describe([SIGN], read=True, engine=engine)
    assert d.error is None and d.labels and d.written is None  # still described
    assert d.warnings and "engine fault" in d.warnings[0] and d.to_json()["warnings"]


def test_a_video_points_to_summarize(animal_video) -> None:  # type: ignore[no-untyped-def]
    (v,) = describe([animal_video.path], read=False)
    assert v.error is not None and "summarize" in v.error


def test_caption_from_a_hub_model(photos: dict[str, Path], tiny_blip: Path) -> None:
    pytest.importorskip("transformers")
    (d,) = describe([photos["coffee"]], read=False, caption_model=str(tiny_blip))
    image = media.load_image(photos["coffee"], min_side=224)  # decoded as describe decodes it
    assert d.caption and d.caption == Captioner(str(tiny_blip)).describe([image])[0]
