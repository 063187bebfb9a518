"""dlib's face descriptor on real photos of named people (face_recognition's test photos,
skimage's astronaut, matplotlib's Grace Hopper): the same person within ``SAME_PERSON``,
different people beyond it, each with a margin far above the spread of the CPU's kernels;
the reduced-scale decode (the fast path) against the full-size one."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dlib")

from sensorium.encoders.face_ids import CROP_SIDE, SAME_PERSON, FaceIdEncoder
from sensorium.encoders.faces import FaceReader
from sensorium.eval.datasets import named_faces
from sensorium.media.image import load_image

MARGIN = 0.05  # a decision's least distance from the threshold, in descriptor units


@pytest.fixture(scope="module")
def vectors() -> dict[Path, tuple[str, np.ndarray]]:
    reader, encoder = FaceReader(), FaceIdEncoder()
    out = {}
    for path, who in named_faces().items():
        media = load_image(path, min_side=224)  # as ingest decodes it
        faces = reader.read([media])[0].faces
        assert len(faces) == 1, path
        out[path] = (who, encoder.faces_of(media, faces)[0].vector)
    return out


def test_same_person_near_and_strangers_far(vectors: dict[Path, tuple[str, np.ndarray]]
                                            ) -> None:  # fmt: skip
    same, other = [], []
    for (_, (wa, va)), (_, (wb, vb)) in itertools.combinations(vectors.items(), 2):
        (same if wa == wb else other).append(float(np.linalg.norm(va - vb)))
    print(f"\nsame person: {len(same)} pairs, farthest {max(same):.3f}; strangers: "
          f"{len(other)} pairs, nearest {min(other):.3f}; threshold {SAME_PERSON}; margins "
          f"{SAME_PERSON - max(same):.3f} and {min(other) - SAME_PERSON:.3f}")
    assert len(same) == 10 and len(other) == 18
    assert max(same) < SAME_PERSON - MARGIN
    assert min(other) > SAME_PERSON + MARGIN


def test_descriptors_repeat_exactly(vectors: dict[Path, tuple[str, np.ndarray]]) -> None:
    """The spread of dlib's kernels on one machine: none between two runs (the margins
    above are 10^4 times any float32 rounding)."""
    path = next(iter(vectors))
    media = load_image(path, min_side=224)
    faces = FaceReader().read([media])[0].faces
    again = FaceIdEncoder().faces_of(media, faces)[0].vector
    assert np.abs(again - vectors[path][1]).max() < 1e-5


def test_reduced_decode_matches_full_size(vectors: dict[Path, tuple[str, np.ndarray]]) -> None:
    """Faces decoded at the reduced scale where they are at least 150 px wide give the
    descriptor the full-size photo gives, within a tenth of the margin to the threshold."""
    encoder, reader = FaceIdEncoder(), FaceReader()
    worst = 0.0
    for path, (_, v) in vectors.items():
        full = load_image(path)
        face = reader.read([load_image(path, min_side=224)])[0].faces[0]
        k = full.image.width / full.width
        ref = encoder.encode(full.image, [tuple(x * k for x in face.box)])[0]
        worst = max(worst, float(np.linalg.norm(ref - v)))
    print(f"\nreduced vs full decode: at most {worst:.4f} apart")
    assert worst < 0.1


def test_crop_is_a_small_jpeg() -> None:
    import io

    from PIL import Image

    path = next(p for p, who in named_faces().items() if who == "Grace Hopper")
    media = load_image(path, min_side=224)
    faces = FaceReader().read([media])[0].faces
    crop = FaceIdEncoder().faces_of(media, faces)[0].crop
    image = Image.open(io.BytesIO(crop))
    assert image.format == "JPEG" and image.size == (CROP_SIDE, CROP_SIDE) and len(crop) < 10_000
