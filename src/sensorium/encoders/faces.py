"""Faces and their expressions: MediaPipe's BlazeFace (TFLite) finds faces, fer's quantized
CNN (TFLite) names each face's expression among seven. Both run with ai-edge-litert.

BlazeFace is driven by hand rather than through ``mediapipe``'s FaceDetector task: the task
needs the whole mediapipe package (protobuf and OpenCV pins) while the graph needs only a
TFLite interpreter, SSD anchors and a weighted non-maximum suppression (MediaPipe's own
post-processing, reproduced below from its calculator options). The weights come from the
``blazeface-short`` / ``blazeface-full`` and ``fer-expression`` cards (sha256-verified).
Needs ``pip install 'sensorium[faces]'``.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from sensorium.encoders.base import ALL_CORES, Threads
from sensorium.errors import ModelError
from sensorium.media.types import ImageMedia
from sensorium.models import model_path

__all__ = [
    "EXPRESSIONS",
    "FACE_MODEL",
    "Face",
    "FaceReader",
    "FaceReading",
    "faces_text",
]

FACE_MODEL = "blazeface-short"  # the detector card used by default
EXPRESSION_MODEL = "fer-expression"
EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # fer's order
EXPRESSION_SIDE = 64  # fer's input: (1, 64, 64, 1) grey in [-1, 1]


@dataclass(frozen=True)
class _Detector:
    """One BlazeFace graph and MediaPipe's options for it (face_detection_*_cpu.pbtxt)."""

    file: str
    side: int  # input (1, side, side, 3) RGB in [-1, 1]
    strides: tuple[int, ...]  # SSD layers; consecutive equal strides share a feature map
    interpolated: bool  # an extra anchor per layer at the interpolated scale
    min_score: float  # default threshold, set on benchmarks/faces.py (see _DETECTORS)


# MediaPipe's own thresholds are 0.5 (short) and 0.6 (full); at 0.5 the short-range model
# finds a "face" in 82 of 596 Tux Paint object stamps, at 0.7 in 8, still finding 87 of 100
# LFW faces (benchmarks/faces.py): derived text must not call a teapot "a person".
_DETECTORS = {
    "blazeface-short": _Detector("face_detection_short_range.tflite", 128, (8, 16, 16, 16),
                                 True, 0.7),
    "blazeface-full": _Detector("face_detection_full_range_sparse.tflite", 192, (4,), False,
                                0.6),
}  # fmt: skip


@dataclass(frozen=True)
class Face:
    """One face found in an image."""

    box: tuple[float, float, float, float]  # x, y, width, height, in the image's pixels
    score: float  # the detector's confidence
    expression: str  # the most likely of EXPRESSIONS
    expression_score: float
    expressions: dict[str, float] = field(default_factory=dict)  # all seven, summing to 1

    def to_json(self) -> dict[str, Any]:
        return {
            "box": [round(v, 1) for v in self.box],
            "score": round(self.score, 4),
            "expression": self.expression,
            "expression_score": round(self.expression_score, 4),
        }


@dataclass(frozen=True)
class FaceReading:
    """The faces in one image (none: an empty list)."""

    faces: list[Face] = field(default_factory=list)
    error: str | None = None  # the detector failed on this image (it then reads as no face)

    @property
    def text(self) -> str:
        """The faces in words ("two people, happy and smiling"); "" when none."""
        return faces_text(self.faces)

    @property
    def confidence(self) -> float:
        """Mean detection score (0 when no face)."""
        return float(np.mean([f.score for f in self.faces])) if self.faces else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"count": len(self.faces), "text": self.text,
                "faces": [f.to_json() for f in self.faces]}  # fmt: skip


_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
# How an expression reads in a sentence about people; "smiling" is what photos are searched by.
_WORDS = {
    "angry": "angry",
    "disgust": "disgusted",
    "fear": "afraid",
    "happy": "happy and smiling",
    "sad": "sad",
    "surprise": "surprised",
    "neutral": "with a calm, neutral expression",
}


def faces_text(faces: list[Face]) -> str:
    """Faces -> derived text for the shared space: how many people and how they look, most
    common expression first ("two people, happy and smiling"; "a person, sad")."""
    if not faces:
        return ""
    n = len(faces)
    who = "a person" if n == 1 else f"{_NUMBERS[n] if n < len(_NUMBERS) else n} people"
    counts: dict[str, int] = {}
    for f in sorted(faces, key=lambda f: -f.expression_score):
        counts[f.expression] = counts.get(f.expression, 0) + 1
    moods = sorted(counts, key=lambda e: -counts[e])
    return f"{who}, {' and '.join(_WORDS[e] for e in moods[:2])}"


def _anchors(d: _Detector) -> np.ndarray:
    """SSD anchor centres, (A, 2) as (x, y) in [0, 1] (fixed anchor size: width = height = 1),
    in the order MediaPipe's SsdAnchorsCalculator emits them."""
    out = []
    layer = 0
    while layer < len(d.strides):
        per_cell = 0
        last = layer
        while last < len(d.strides) and d.strides[last] == d.strides[layer]:
            per_cell += 2 if d.interpolated else 1  # aspect ratio 1.0, plus the interpolated
            last += 1
        cells = int(np.ceil(d.side / d.strides[layer]))
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], -1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
        layer = last
    return np.concatenate(out).astype(np.float32)


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(4,) x (K, 4) boxes as (x0, y0, x1, y1) -> (K,) intersection over union."""
    lo = np.maximum(box[:2], others[:, :2])
    hi = np.minimum(box[2:], others[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2]) + np.prod(others[:, 2:] - others[:, :2], axis=1)
    return inter / np.maximum(area - inter, 1e-9)


def _weighted_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float = 0.3
                  ) -> list[tuple[np.ndarray, float]]:  # fmt: skip
    """MediaPipe's WEIGHTED suppression: each cluster of overlapping boxes becomes their
    score-weighted mean, with the best score. boxes (K, 4) as (x0, y0, x1, y1)."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    kept = []
    alive = np.ones(len(boxes), bool)
    for i in range(len(boxes)):
        if not alive[i]:
            continue
        cluster = alive & (_iou(boxes[i], boxes) > threshold)
        cluster[i] = True
        w = scores[cluster][:, None]
        kept.append(((boxes[cluster] * w).sum(0) / w.sum(), float(scores[i])))
        alive &= ~cluster
    return kept


def _interpreter(path: str, threads: int, reference: bool = False) -> Any:
    """A LiteRT interpreter. ``reference``: TFLite's reference kernels, no XNNPACK delegate:
    the plain path that parity tests compare the shipped (CPU-tuned) kernels with."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError as e:
        raise ModelError("faces need ai-edge-litert: pip install 'sensorium[faces]'") from e
    kernels = OpResolverType.BUILTIN_REF if reference else OpResolverType.AUTO
    with _quiet_stderr():
        it = Interpreter(model_path=path, num_threads=threads,
                         experimental_op_resolver_type=kernels)  # fmt: skip
        it.allocate_tensors()  # where the XNNPACK delegate is made, and says so
    return it


# File descriptor 2 is the process's: two threads swapping it at once could leave it silenced
# for good (B saves the /dev/null that A put there, A restores stderr, B restores /dev/null).
_STDERR_SWAP = threading.Lock()


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 pointed at /dev/null meanwhile. LiteRT's C++ logger writes "INFO:
    Created TensorFlow Lite XNNPACK delegate for CPU." with fprintf to stderr: TensorFlow's
    TF_CPP_MIN_LOG_LEVEL does not reach that logger, no Python API sets its level, and
    ``sys.stderr`` is not what it writes to. A failure still raises, with its message. One
    thread at a time (``_STDERR_SWAP``), from saving fd 2 to restoring it."""
    with _STDERR_SWAP:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class FaceReader:
    """``read(batch)`` -> one ``FaceReading`` per image: the faces BlazeFace finds with a score
    of at least ``min_score`` (default: MediaPipe's own threshold for the model), each with its
    expression. A face smaller than ``min_side`` pixels is dropped: its expression would be
    read from a blur."""

    def __init__(self, detector: str = FACE_MODEL, expression: str = EXPRESSION_MODEL,
                 min_score: float | None = None, min_side: int = 20, margin: float = 0.25,
                 threads: Threads = ALL_CORES) -> None:  # fmt: skip
        if detector not in _DETECTORS:
            raise ModelError(f"unknown face detector {detector!r}: one of {sorted(_DETECTORS)}")
        self.spec = _DETECTORS[detector]
        self.min_score = self.spec.min_score if min_score is None else min_score
        self.min_side = min_side
        self.margin = margin  # the face box is widened by this share before reading expression
        count = threads.resolve(2)
        self.detector = _interpreter(str(model_path(detector) / self.spec.file), count)
        self.classifier = _interpreter(
            str(model_path(expression) / "emotion_model_quantized.tflite"), count)  # fmt: skip
        self.anchors = _anchors(self.spec)  # (A, 2)

    def _detect(self, image: Image.Image) -> list[tuple[np.ndarray, float]]:
        """Letterbox to a square (as MediaPipe does), run BlazeFace, decode in image pixels."""
        side = max(image.size)
        pad_x, pad_y = (side - image.width) / 2, (side - image.height) / 2
        square = Image.new("RGB", (side, side))
        square.paste(image, (int(pad_x), int(pad_y)))
        s = self.spec.side
        x = np.asarray(square.resize((s, s), Image.Resampling.BILINEAR), np.float32)
        x = (x / 127.5 - 1.0)[None]  # (1, s, s, 3) in [-1, 1]
        inp, out = self.detector.get_input_details(), self.detector.get_output_details()
        self.detector.set_tensor(inp[0]["index"], x)
        self.detector.invoke()
        raw = {tuple(o["shape"])[-1]: self.detector.get_tensor(o["index"])[0] for o in out}
        reg, logits = raw[16], raw[1][:, 0]  # (A, 16) box + 6 key points, (A,)
        scores = 1 / (1 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
        keep = scores >= self.min_score
        if not keep.any():
            return []
        reg, scores, anchors = reg[keep], scores[keep], self.anchors[keep]
        centre = reg[:, :2] / s + anchors  # (K, 2) in [0, 1] of the square
        size = reg[:, 2:4] / s
        boxes = np.concatenate([centre - size / 2, centre + size / 2], 1) * side
        boxes -= np.array([pad_x, pad_y, pad_x, pad_y], np.float32)  # back to the image
        return _weighted_nms(boxes, scores)

    def _expression(self, grey: Image.Image, box: np.ndarray) -> np.ndarray:
        """A face box (x0, y0, x1, y1) -> (7,) expression probabilities, from a square crop
        widened by ``margin`` (fer's training faces include the forehead and chin)."""
        cx, cy = (box[:2] + box[2:]) / 2
        half = max(box[2] - box[0], box[3] - box[1]) * (1 + self.margin) / 2
        crop = grey.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
        x = np.asarray(crop.resize((EXPRESSION_SIDE, EXPRESSION_SIDE), Image.Resampling.BILINEAR),
                       np.float32)  # fmt: skip
        x = (x / 127.5 - 1.0)[None, :, :, None]  # (1, 64, 64, 1)
        inp = self.classifier.get_input_details()[0]["index"]
        self.classifier.set_tensor(inp, x)
        self.classifier.invoke()
        p = self.classifier.get_tensor(self.classifier.get_output_details()[0]["index"])[0]
        return np.asarray(p, np.float64) / max(float(np.sum(p)), 1e-9)

    def _read_one(self, image: ImageMedia) -> FaceReading:
        try:
            found = self._detect(image.image)
            grey = ImageOps.grayscale(image.image) if found else None
            faces = []
            for box, score in found:
                box = np.clip(box, 0, [image.image.width, image.image.height] * 2)
                w, h = float(box[2] - box[0]), float(box[3] - box[1])
                if min(w, h) < self.min_side:
                    continue
                p = self._expression(grey, box)  # type: ignore[arg-type]
                best = int(np.argmax(p))
                faces.append(
                    Face(
                        (float(box[0]), float(box[1]), w, h),
                        score,
                        EXPRESSIONS[best],
                        float(p[best]),
                        dict(zip(EXPRESSIONS, p.round(4).tolist())),
                    )
                )
        except Exception as e:  # one image must not stop a batch
            return FaceReading(error=f"faces could not be read ({type(e).__name__}: {e})")
        # Scale from the decoded image back to the original's pixels (reduced-scale decoding).
        k = image.width / image.image.width if image.image.width else 1.0
        if k != 1.0:
            faces = [Face(tuple(v * k for v in f.box), f.score, f.expression,  # type: ignore[arg-type]
                          f.expression_score, f.expressions) for f in faces]  # fmt: skip
        return FaceReading(sorted(faces, key=lambda f: f.box[0]))

    def read(self, batch: list[ImageMedia]) -> list[FaceReading]:
        return [self._read_one(m) for m in batch]
