"""The fast text encoder (int8 ONNX) against the plain reference (fp32 torch, transformers)."""

from __future__ import annotations

import numpy as np
import pytest

from sensorium.encoders import TextEncoder
from sensorium.models import model_path

SENTENCES = [
    "a dog barking loudly",
    "the sound of a barking dog",
    "A red kangaroo.",
    "Please enter your password followed by the pound key.",
    "quarterly budget review meeting",
]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder()


def test_shape_norm_and_order(encoder: TextEncoder) -> None:
    v = encoder.encode(SENTENCES)
    assert v.shape == (5, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    # batching and length-sorting must not change a row
    assert np.allclose(encoder.encode(SENTENCES[2:3])[0], v[2], atol=1e-5)


def test_meaning(encoder: TextEncoder) -> None:
    v = encoder.encode(SENTENCES)
    sims = v @ v.T
    assert sims[0, 1] > 0.7  # MODELS.md saw 0.78
    assert sims[0, 1] > sims[0, 3] + 0.4


def test_int8_matches_fp32_reference(encoder: TextEncoder) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = model_path("minilm-l6")
    tok = transformers.PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))
    model = transformers.BertModel.from_pretrained(str(folder)).eval()
    batch = tok(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state  # (N, L, 384)
    mask = batch["attention_mask"][..., None].float()
    ref = (hidden * mask).sum(1) / mask.sum(1)
    ref = torch.nn.functional.normalize(ref, dim=1).numpy()
    cos = (ref * encoder.encode(SENTENCES)).sum(1)
    assert cos.min() > 0.97, cos
