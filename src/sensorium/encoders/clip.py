"""Image-text encoder: CLIP from a model hub (``encoders/hub.py``), for users who have one.

A drop-in for ``ImageEncoder``: ``run`` gives the model's image embeddings as features and
zero-shot posteriors over the same ImageNet classes (from their prompts), so the label bridge,
the store, search and fusion work unchanged. ``encode_texts`` lets a caller that holds labels
score images against them in CLIP's own space (``SharedSpace.label_logits``).
"""

from __future__ import annotations

import numpy as np

from sensorium.encoders.base import l2_normalize
from sensorium.encoders.hub import HubContrastive, pooled
from sensorium.encoders.image import ImageOutput
from sensorium.media.types import ImageMedia

__all__ = ["ClipEncoder"]


class ClipEncoder(HubContrastive):
    task = "image-text embedding"
    model_class = "CLIPModel"
    processor_class = "CLIPProcessor"
    default_source = "clip-vit-b32"

    def encode_images(self, batch: list[ImageMedia]) -> np.ndarray:
        """(N,) images -> (N, dim), rows L2-normalised."""
        import torch

        out = []
        for start in range(0, len(batch), self.batch_size):
            chunk = [m.image for m in batch[start : start + self.batch_size]]
            pixels = self.processor(images=chunk, return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                out.append(pooled(self.model.get_image_features(pixel_values=pixels)).numpy())
        return l2_normalize(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)

    def run(self, batch: list[ImageMedia]) -> ImageOutput:
        """Features and zero-shot posteriors over the class prompts, as ``ImageEncoder.run``."""
        z = self.zero_shot(self.encode_images(batch))
        return ImageOutput(z.features, z.probs)

    def encode(self, batch: list[ImageMedia]) -> np.ndarray:
        return self.encode_images(batch)
