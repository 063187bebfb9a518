"""The hub image-text path (CLIP), on the tiny checkpoint of ``tests/conftest.py``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorium import media
from sensorium.encoders.clip import ClipEncoder
from sensorium.engine import Engine
from sensorium.errors import ModelError, UsageError
from sensorium.perceive import classify
from sensorium.space import SharedSpace, SpaceOptions
from sensorium.store.ingest import _models

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")


def _plain_logits(folder: Path, images: list[media.ImageMedia], texts: list[str]) -> np.ndarray:
    """The reference: transformers' own forward pass, (N images, L texts)."""
    model = transformers.CLIPModel.from_pretrained(folder).eval()
    processor = transformers.CLIPProcessor.from_pretrained(folder)
    inputs = processor(text=texts, images=[m.image for m in images], return_tensors="pt",
                       padding=True)  # fmt: skip
    with torch.inference_mode():
        return model(**inputs).logits_per_image.numpy()


def test_scores_match_transformers_forward(tiny_clip: Path, photos: dict[str, Path]) -> None:
    images = [media.load_image(p) for p in photos.values()]
    texts = ["a photo of a cat.", "a cup of coffee", "a rocket on its launch pad"]
    enc = ClipEncoder(str(tiny_clip))
    img, txt = enc.encode_images(images), enc.encode_texts(texts)  # (4, 16), (3, 16)
    assert img.shape == (4, enc.dim) and txt.shape == (3, enc.dim)
    np.testing.assert_allclose(np.linalg.norm(img, axis=1), 1.0, atol=1e-5)
    ours = enc.logit_scale * img @ txt.T
    np.testing.assert_allclose(ours, _plain_logits(tiny_clip, images, texts), atol=1e-4)


def test_run_gives_posteriors_over_class_prompts(tiny_clip: Path, photos: dict[str, Path]) -> None:
    images = [media.load_image(p) for p in photos.values()]
    prompts = ["a photo of a cat.", "a photo of a dog.", "a photo of a cup."]
    out = ClipEncoder(str(tiny_clip), class_prompts=prompts).run(images)
    assert out.probs.shape == (4, 3)
    np.testing.assert_allclose(out.probs.sum(1), 1.0, atol=1e-5)
    plain = _plain_logits(tiny_clip, images, prompts)
    assert (out.probs.argmax(1) == plain.argmax(1)).all()


def test_space_and_classify_through_clip(tiny_clip: Path, photos: dict[str, Path]) -> None:
    space = SharedSpace(SpaceOptions(image_model=str(tiny_clip)))
    embedded = space.embed([media.load_image(photos["chelsea"])])
    assert embedded[0].vector.shape == (384,)  # bound to the text space by the ImageNet bridge
    assert abs(float(np.linalg.norm(embedded[0].vector)) - 1) < 1e-5
    assert _models(space, "image")["image"] == str(tiny_clip)  # a change of encoder re-ingests

    labels = ["cat", "dog", "coffee"]
    result = classify([photos["chelsea"]], labels, top=3, engine=Engine(space=space))[0]
    plain = _plain_logits(tiny_clip, [media.load_image(photos["chelsea"])],
                          [f"a photo of a {x}." for x in labels])[0]  # fmt: skip
    expected = np.exp(plain - plain.max()) / np.exp(plain - plain.max()).sum()
    got = dict(result.labels)
    np.testing.assert_allclose([got[x] for x in labels], expected, atol=1e-4)


def test_unreachable_hub_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelError, match=r"cannot load clip-vit-b32 from openai/clip-vit-base-p"):
        ClipEncoder("clip-vit-b32")


def test_not_an_image_text_model() -> None:
    with pytest.raises(UsageError, match="not an image-text embedding model"):
        ClipEncoder("yamnet")


def test_card_names_its_hub_and_licence() -> None:
    from sensorium.models import get_card

    card = get_card("clip-vit-b32")
    assert not card.offline and card.hub == "openai/clip-vit-base-patch32"
    assert card.licence == "MIT" and card.task == "image-text embedding"
