"""Image -> a short description: BLIP from a model hub (``encoders/hub.py``), for users who
have one; no registry package ships captioning weights (MODELS.md)."""

from __future__ import annotations

from sensorium.encoders.hub import load_pretrained, resolve_source
from sensorium.media.types import ImageMedia

__all__ = ["Captioner"]


class Captioner:
    task = "image captioning"

    def __init__(
        self, source: str = "blip-base", max_tokens: int = 30, beams: int = 3, batch_size: int = 8
    ) -> None:
        self.name = source
        self.model, self.processor = load_pretrained(
            source, resolve_source(source, self.task), "BlipForConditionalGeneration",
            "BlipProcessor",
        )  # fmt: skip
        self.max_tokens, self.beams, self.batch_size = max_tokens, beams, batch_size

    def describe(self, batch: list[ImageMedia]) -> list[str]:
        """(N,) images -> (N,) captions, beam search, at most ``max_tokens`` tokens each."""
        import torch

        out: list[str] = []
        for start in range(0, len(batch), self.batch_size):
            chunk = [m.image for m in batch[start : start + self.batch_size]]
            pixels = self.processor(images=chunk, return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                ids = self.model.generate(pixel_values=pixels, max_new_tokens=self.max_tokens,
                                          num_beams=self.beams)  # fmt: skip
            out += [t.strip() for t in self.processor.batch_decode(ids, skip_special_tokens=True)]
        return out
