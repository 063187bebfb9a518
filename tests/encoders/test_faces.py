"""Faces and expressions (BlazeFace + fer's CNN, TFLite through ai-edge-litert), on real photos:
the astronaut (one smiling face), Grace Hopper (one face, not smiling), a cat and a cup of
coffee (no human face); and faces mixed into image vectors as derived text."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest

from sensorium import media
from sensorium.encoders.faces import (
    _DETECTORS,
    EXPRESSIONS,
    Face,
    FaceReader,
    _anchors,
    _weighted_nms,
    faces_text,
)
from sensorium.media.types import ImageMedia
from sensorium.space import SharedSpace, SpaceOptions

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def reader() -> FaceReader:
    return FaceReader()


def _load(path: Path) -> ImageMedia:
    m = media.load(path, image_side=None)
    assert isinstance(m, ImageMedia)
    return m


def test_anchor_layouts_match_the_graphs() -> None:
    assert _anchors(_DETECTORS["blazeface-short"]).shape == (896, 2)
    assert _anchors(_DETECTORS["blazeface-full"]).shape == (2304, 2)


def test_weighted_nms_merges_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    kept = _weighted_nms(boxes, np.array([0.9, 0.6, 0.8]))
    assert len(kept) == 2 and kept[0][1] == 0.9
    assert 0 < kept[0][0][0] < 1  # the merged box lies between the two


def test_finds_the_smiling_astronaut(reader: FaceReader, photos: dict[str, Path]) -> None:
    (r,) = reader.read([_load(photos["astronaut"])])
    assert len(r.faces) == 1 and r.faces[0].score > 0.8
    x, y, w, h = r.faces[0].box  # her face: about x 170-270, y 70-180 in the 512 px photo
    assert 140 < x < 200 and 50 < y < 110 and 70 < w < 130 and 70 < h < 130
    assert r.faces[0].expression == "happy" and r.faces[0].expression_score > 0.8
    assert set(r.faces[0].expressions) == set(EXPRESSIONS)
    assert r.text == "a person, happy and smiling"


def test_grace_hopper_is_not_smiling(reader: FaceReader) -> None:
    path = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    (r,) = reader.read([_load(path)])
    assert len(r.faces) == 1 and r.faces[0].expression == "neutral"


def test_no_face_in_a_cat_or_a_cup(reader: FaceReader, photos: dict[str, Path]) -> None:
    readings = reader.read([_load(photos["chelsea"]), _load(photos["coffee"])])
    assert [r.faces for r in readings] == [[], []] and all(r.text == "" for r in readings)


def test_boxes_are_in_the_original_pixels(reader: FaceReader, photos: dict[str, Path]) -> None:
    full = reader.read([_load(photos["astronaut"])])[0].faces[0].box
    small = media.load(photos["astronaut"], image_side=64)  # decoded at a reduced scale
    assert isinstance(small, ImageMedia)
    reduced = reader.read([small])[0].faces
    if reduced:  # JPEG draft decoding halves or quarters it: the box must still match
        assert np.allclose(reduced[0].box, full, atol=20)


def test_faces_text_counts_people() -> None:
    def face(e: str) -> Face:
        return Face((0, 0, 1, 1), 0.9, e, 0.9)

    assert faces_text([]) == ""
    assert faces_text([face("happy"), face("happy"), face("sad")]) == (
        "three people, happy and smiling and sad"
    )
    assert faces_text([face("neutral")] * 12).startswith("12 people")


def test_a_broken_image_reads_as_no_face(reader: FaceReader) -> None:
    bad = ImageMedia("bad", None, 1, 1)  # type: ignore[arg-type]
    (r,) = reader.read([bad])
    assert r.faces == [] and r.error and "faces could not be read" in r.error


def _stderr_file() -> tuple[int, int]:
    st = os.fstat(2)
    return st.st_dev, st.st_ino


def test_stderr_survives_interpreters_made_in_threads() -> None:
    """Each interpreter is made with fd 2 swapped for /dev/null; two threads swapping at once
    could restore each other's /dev/null and silence stderr for the rest of the process."""
    from sensorium.encoders.faces import FACE_MODEL, _interpreter, _quiet_stderr
    from sensorium.models import model_path

    def quiet() -> None:
        with _quiet_stderr():
            time.sleep(0.01)  # long enough for the other threads to swap meanwhile

    detector = str(model_path(FACE_MODEL) / _DETECTORS[FACE_MODEL].file)
    before = _stderr_file()
    for work in (quiet, lambda: _interpreter(detector, 1)):
        with ThreadPoolExecutor(8) as pool:
            for done in [pool.submit(work) for _ in range(16)]:
                done.result()
        assert _stderr_file() == before


@pytest.fixture(scope="module")
def spaces() -> tuple[SharedSpace, SharedSpace]:
    return SharedSpace(), SharedSpace(SpaceOptions(faces=True))


def test_faces_move_an_image_towards_happy_people(
    spaces: tuple[SharedSpace, SharedSpace], photos: dict[str, Path]
) -> None:
    plain, faces = spaces
    item = [_load(photos["astronaut"])]
    (before,), (after,) = plain.embed(item), faces.embed(item)
    assert before.faces is None and after.faces is not None and len(after.faces.faces) == 1
    assert set(after.part_vectors) == {"seen", "faces"} and after.parts["faces"] > 0.8
    assert np.allclose(after.part_vectors["seen"], before.vector, atol=1e-6)
    q = faces.text.encode(["happy people smiling"])[0]
    assert after.vector @ q > before.vector @ q + 0.1
    assert abs(np.linalg.norm(after.vector) - 1) < 1e-5


def test_an_image_with_no_face_is_unchanged(
    spaces: tuple[SharedSpace, SharedSpace], photos: dict[str, Path]
) -> None:
    plain, faces = spaces
    item = [_load(photos["coffee"])]
    (before,), (after,) = plain.embed(item), faces.embed(item)
    assert after.faces is not None and after.faces.faces == []
    assert np.array_equal(before.vector, after.vector) and after.part_vectors == {}
    assert after.parts == before.parts


def test_describe_reports_faces(photos: dict[str, Path]) -> None:
    from sensorium.perceive import describe

    astronaut, cup = describe([photos["astronaut"], photos["coffee"]], read=False, faces=True)
    assert astronaut.to_json()["faces"]["count"] == 1
    assert astronaut.to_json()["faces"]["text"] == "a person, happy and smiling"
    assert cup.to_json()["faces"] == {"count": 0, "text": "", "faces": []}
    assert "faces" not in describe([photos["coffee"]], read=False)[0].to_json()


def test_shipped_kernels_match_reference_kernels_on_this_cpu(
    reader: FaceReader, photos: dict[str, Path]
) -> None:
    """XNNPACK's tuned kernels (the shipped path; int8 ones for the quantised expression CNN)
    against TFLite's reference kernels, on real faces: the same faces, boxes within a pixel,
    every expression probability within 0.02. A kernel that computed differently fails."""
    from PIL import Image

    from sensorium.encoders.faces import EXPRESSION_MODEL, FACE_MODEL, _interpreter
    from sensorium.models import model_path

    plain = FaceReader()
    plain.detector = _interpreter(str(model_path(FACE_MODEL) / reader.spec.file), 1, True)
    plain.classifier = _interpreter(
        str(model_path(EXPRESSION_MODEL) / "emotion_model_quantized.tflite"), 1, True
    )
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = Image.open(f).convert("RGB")
    images = [media.load_image(photos["astronaut"]), ImageMedia("hopper.jpg", hopper, *hopper.size)]
    for ours, ref in zip(reader.read(images), plain.read(images)):
        assert len(ours.faces) == len(ref.faces) >= 1
        for a, b in zip(ours.faces, ref.faces):
            assert np.abs(np.asarray(a.box) - np.asarray(b.box)).max() <= 1.0
            assert abs(a.score - b.score) < 0.02 and a.expression == b.expression
            assert max(abs(a.expressions[k] - b.expressions[k]) for k in a.expressions) < 0.02
