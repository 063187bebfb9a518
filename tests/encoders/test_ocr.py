"""Text read in images (PP-OCRv4 through RapidOCR), on real images: a printed page, a photo
with no text, and a Tux Paint road sign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skimage.data
from PIL import Image

from sensorium import media
from sensorium.encoders.ocr import OCR_MODEL, TextReader
from sensorium.eval.datasets import TUXPAINT
from sensorium.models import model_path
from sensorium.space import SharedSpace, SpaceOptions
from sensorium.store.ingest import _models

pytest.importorskip("rapidocr_onnxruntime")
HOSPITAL = TUXPAINT / "town/roadsigns/hospital.png"


@pytest.fixture(scope="module")
def reader() -> TextReader:
    return TextReader()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ocr") / "page.png"
    Image.fromarray(skimage.data.page()).save(path)  # a scanned page of a textbook
    return path


def test_reads_a_printed_page(reader: TextReader, page: Path) -> None:
    (r,) = reader.read([media.load_image(page)])
    assert "markers" in r.text and "background" in r.text.lower()
    assert len(r.lines) >= 4 and r.confidence > 0.9


def test_a_photo_without_text_reads_nothing(reader: TextReader, photos: dict[str, Path]) -> None:
    readings = reader.read([media.load_image(photos[n]) for n in ("chelsea", "coffee")])
    assert [r.text for r in readings] == ["", ""] and readings[0].confidence == 0.0


def test_space_mixes_the_text_read_into_the_vector(photos: dict[str, Path]) -> None:
    plain, reading = SharedSpace(), SharedSpace(SpaceOptions(ocr=True))
    images = [media.load_image(HOSPITAL), media.load_image(photos["chelsea"])]
    (sign, cat), (sign_ocr, cat_ocr) = plain.embed(images), reading.embed(images)
    assert sign_ocr.written == "HOSPITAL" and set(sign_ocr.part_vectors) == {"seen", "written"}
    caption = plain.text.encode(["A hospital sign."])[0]
    assert float(sign_ocr.vector @ caption) > float(sign.vector @ caption) + 0.1
    np.testing.assert_array_equal(cat_ocr.vector, cat.vector)  # no text: the bridge alone
    assert cat_ocr.written is None and "written" not in cat_ocr.parts
    assert _models(reading, "image")["ocr"] == "ppocr-v4" and "ocr" not in _models(plain, "image")


def test_thin_images_are_read_not_refused(reader: TextReader, page: Path) -> None:
    strip = Image.open(page).convert("RGB").crop((0, 0, 384, 40)).resize((5000, 30))
    (r,) = reader.read([media.ImageMedia("strip", strip, 5000, 30)])  # RapidOCR alone fails
    assert r.error is None


def test_a_failing_reader_loses_only_the_text(
    photos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    space = SharedSpace(SpaceOptions(ocr=True))

    def broken(image: np.ndarray) -> None:
        raise RuntimeError("engine fault")

    monkeypatch.setattr(space.reader, "engine", broken)
    image = media.load_image(photos["coffee"])
    (r,) = space.reader.read([image])
    assert r.text == "" and r.error is not None and "engine fault" in r.error
    (e,) = space.embed([image])  # the image is still placed, through its bridge
    np.testing.assert_array_equal(e.vector, SharedSpace().embed([image])[0].vector)


def test_shipped_sessions_match_plain_runs_on_this_cpu(
    reader: TextReader, page: Path, plain_session: Any
) -> None:
    """Detection, orientation and recognition, each graph with optimisations off, against the
    shipped sessions: the same lines, scores equal to rounding. A kernel that computed
    differently would move a box or a character."""
    plain = TextReader()
    folder = model_path(OCR_MODEL)
    plain.engine.text_det.infer.session = plain_session(folder / "det.onnx")
    plain.engine.text_cls.infer.session = plain_session(folder / "cls.onnx")
    plain.engine.text_rec.session.session = plain_session(folder / "rec.onnx")
    images = [media.load_image(p) for p in (page, HOSPITAL)]
    for ours, ref in zip(reader.read(images), plain.read(images)):
        assert [t for t, _ in ours.lines] == [t for t, _ in ref.lines] and ref.lines
        assert np.allclose([s for _, s in ours.lines], [s for _, s in ref.lines], atol=1e-3)


def test_a_very_long_strip_is_shrunk_before_reading(reader: TextReader, page: Path) -> None:
    """A 40 x 20000 strip (the page, stretched) is read at most MAX_SIDE long, not whole."""
    from sensorium.encoders.ocr import MAX_SIDE, _bounded

    strip = Image.open(page).convert("RGB").resize((40, 20_000))
    assert max(_bounded(strip).size) == MAX_SIDE
    (r,) = reader.read([media.ImageMedia("strip.png", strip, *strip.size)])
    assert r.error is None
