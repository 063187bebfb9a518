"""Text in images: PP-OCRv4 (detection, orientation, recognition; ONNX) run by RapidOCR.

RapidOCR is used rather than driving the three ONNX graphs by hand: it owns the detector's
box post-processing (polygon unclipping, perspective crops), which is most of the work and
easy to get subtly wrong. The weights come from the ``ppocr-v4`` card (sha256-verified), not
from the package's own copy. Needs ``pip install 'sensorium[ocr]'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from sensorium.encoders.base import ALL_CORES, Threads
from sensorium.errors import ModelError
from sensorium.media.types import ImageMedia
from sensorium.models import model_path

__all__ = ["OCR_MODEL", "Reading", "TextReader"]

OCR_MODEL = "ppocr-v4"  # the card the reader loads by default

# A thinner image is padded to this ratio before reading: RapidOCR's detector scales the short
# side up to 736 px, so a 1:50 strip became 736 x 36800 (4.3 GB, over 120 s); at 1:4, 680 MB.
MAX_ASPECT = 4
# The detector sees at most 2000 px a side (RapidOCR's max_side_len); lines are cut from the
# image it is given, so twice that keeps small print legible while bounding memory and time
# (a 1 x 20000 strip took 4.7 GB and 62 s at full length).
MAX_SIDE = 4000


@dataclass(frozen=True)
class Reading:
    """What an image says in writing."""

    text: str  # the kept lines, top to bottom, joined by newlines ("" when none)
    confidence: float  # mean recognition score of the kept lines (0 when none)
    lines: list[tuple[str, float]] = field(default_factory=list)  # (line, score)
    error: str | None = None  # the reader failed on this image (it then reads as no text)


def _bounded(image: Image.Image) -> Image.Image:
    if max(image.size) <= MAX_SIDE:
        return image
    scale = MAX_SIDE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _fattened(image: Image.Image) -> Image.Image:
    """Pad a very thin image with white: RapidOCR shrinks the long side to 2000 px and fails
    when that leaves the short side at 0 (a 3 x 5000 strip)."""
    short = max(image.width, image.height) // MAX_ASPECT
    if min(image.width, image.height) >= short:
        return image
    canvas = Image.new("RGB", (max(image.width, short), max(image.height, short)), "white")
    canvas.paste(image, (0, 0))
    return canvas


def _engine(model: str, threads: Threads):  # type: ignore[no-untyped-def]
    folder = model_path(model)  # verified, or ModelNotInstalledError with the install hint
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as e:
        raise ModelError(f"{model} needs RapidOCR: pip install 'sensorium[ocr]'") from e
    return RapidOCR(det_model_path=str(folder / "det.onnx"),
                    rec_model_path=str(folder / "rec.onnx"),
                    cls_model_path=str(folder / "cls.onnx"),
                    intra_op_num_threads=threads.resolve(-1))  # fmt: skip


class TextReader:
    """``read(batch)`` -> one ``Reading`` per image. A line is kept when its recognition score
    reaches ``min_confidence`` and it holds at least two letters or digits: on Tux Paint's
    photos the lone characters it returns are texture read as glyphs ("m" on a kangaroo's fur,
    "J" on a grasshopper), and a real lone large letter is not detected at all."""

    def __init__(
        self, model: str = OCR_MODEL, min_confidence: float = 0.8, threads: Threads = ALL_CORES
    ) -> None:
        self.name = model
        self.engine = _engine(model, threads)
        self.min_confidence = min_confidence

    def _read_one(self, image: ImageMedia) -> Reading:
        rgb = np.asarray(_fattened(_bounded(image.image)))  # (H, W, 3)
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        try:
            found, _ = self.engine(bgr)
        except Exception as e:  # RapidOCR and OpenCV raise many kinds; one image must not
            return Reading("", 0.0, error=f"text could not be read ({type(e).__name__}: {e})")
        lines = [(str(text).strip(), float(score)) for _, text, score in found or []]
        kept = [(t, s) for t, s in lines
                if s >= self.min_confidence and len(re.findall(r"\w", t)) >= 2]  # fmt: skip
        if not kept:
            return Reading("", 0.0)
        return Reading("\n".join(t for t, _ in kept), float(np.mean([s for _, s in kept])), kept)

    def read(self, batch: list[ImageMedia]) -> list[Reading]:
        return [self._read_one(m) for m in batch]
