"""Image encoder: EfficientNet-Lite0 in ONNX Runtime -> pooled features and ImageNet posteriors."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from PIL import Image

from sensorium.encoders.base import l2_normalize, onnx_session
from sensorium.media.types import ImageMedia
from sensorium.models import model_path

__all__ = ["ImageEncoder", "ImageOutput", "preprocess"]

SIZE = 224


def preprocess(image: Image.Image) -> np.ndarray:
    """RGB image -> (3, 224, 224) float32.

    The whole image is kept (fit inside 224, padded with white) rather than centre-cropped:
    photos of objects and cut-outs lose their edges to a crop. Normalised with mean = std =
    0.5, which is what these weights were trained with (ImageNet mean/std is clearly worse).
    """
    im = image.copy()
    im.thumbnail((SIZE, SIZE), Image.Resampling.BICUBIC, reducing_gap=2.0)
    canvas = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    canvas.paste(im, ((SIZE - im.width) // 2, (SIZE - im.height) // 2))
    x = np.asarray(canvas, np.float32) / 127.5 - 1.0  # (224, 224, 3) in [-1, 1]
    return x.transpose(2, 0, 1)


@dataclass(frozen=True)
class ImageOutput:
    features: np.ndarray  # (N, 1280) pooled features, L2-normalised
    probs: np.ndarray  # (N, 1000) ImageNet-1k posteriors


class ImageEncoder:
    dim = 1280

    def __init__(self, model: str = "efficientnet-lite0", batch_size: int = 16) -> None:
        folder = model_path(model)
        self.session = onnx_session(folder / "model.onnx")
        names = json.loads((folder / "imagenet1k_label_to_names.json").read_text())
        self.classes: list[str] = [names[str(i)] for i in range(len(names))]
        self.batch_size = batch_size

    def run(self, batch: list[ImageMedia]) -> ImageOutput:
        feats, logits = [], []
        for start in range(0, len(batch), self.batch_size):
            chunk = batch[start : start + self.batch_size]
            pixels = np.stack([preprocess(m.image) for m in chunk])  # (B, 3, 224, 224)
            f, lg = self.session.run(["features", "logits"], {"pixels": pixels})
            feats.append(f)
            logits.append(lg)
        lg = np.concatenate(logits)  # (N, 1000)
        e = np.exp(lg - lg.max(1, keepdims=True))
        return ImageOutput(l2_normalize(np.concatenate(feats)), e / e.sum(1, keepdims=True))

    def encode(self, batch: list[ImageMedia]) -> np.ndarray:
        return self.run(batch).features
