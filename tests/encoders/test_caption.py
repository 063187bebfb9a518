"""The hub captioning path (BLIP), on the tiny checkpoint of ``tests/conftest.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensorium import media
from sensorium.encoders.caption import Captioner
from sensorium.errors import UsageError

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")


def test_captions_match_transformers_generate(tiny_blip: Path, photos: dict[str, Path]) -> None:
    images = [media.load_image(p) for p in photos.values()]
    ours = Captioner(str(tiny_blip), max_tokens=8, beams=2).describe(images)
    model = transformers.BlipForConditionalGeneration.from_pretrained(tiny_blip).eval()
    processor = transformers.BlipProcessor.from_pretrained(tiny_blip)
    inputs = processor(images=[m.image for m in images], return_tensors="pt")
    with torch.inference_mode():
        ids = model.generate(**inputs, max_new_tokens=8, num_beams=2)
    plain = [t.strip() for t in processor.batch_decode(ids, skip_special_tokens=True)]
    assert ours == plain and len(ours) == 4 and all(ours)  # random weights: any words


def test_not_a_captioning_model() -> None:
    with pytest.raises(UsageError, match="not an image captioning model"):
        Captioner("clip-vit-b32")
