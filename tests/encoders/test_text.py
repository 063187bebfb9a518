"""The fast text encoder (int8 ONNX) against the plain reference (fp32 torch, transformers)."""

from __future__ import annotations

from typing import Any

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


def _nearest(vectors: np.ndarray) -> np.ndarray:
    """(N, D) -> (N,) each row's nearest other row."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1)
    return sims.argmax(1)


def _fp32(sentences: list[str]) -> np.ndarray:
    """(N, 384) the fp32 model through transformers (the reference path), mean-pooled."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = model_path("minilm-l6")
    tok = transformers.PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))
    model = transformers.BertModel.from_pretrained(str(folder)).eval()
    batch = tok(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state  # (N, L, 384)
    mask = batch["attention_mask"][..., None].float()
    ref = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(ref, dim=1).numpy()


def test_int8_matches_fp32_reference(encoder: TextEncoder) -> None:
    cos = (_fp32(SENTENCES) * encoder.encode(SENTENCES)).sum(1)
    assert cos.min() > 0.97, cos


def test_shipped_session_matches_plain_run_on_this_cpu(
    encoder: TextEncoder, plain_session: Any
) -> None:
    """The int8 graph dequantises its weights to float; with optimisations on, ONNX Runtime
    may fold or fuse that per CPU. On real captions the vectors must agree to rounding, and
    every caption's nearest neighbour must be the same: a wrong kernel fails both."""
    from sensorium.eval.datasets import tuxpaint_stamps

    captions = sorted({s.caption for s in tuxpaint_stamps()})[:200]
    shipped = encoder.encode(captions)  # (N, 384)
    plain = TextEncoder()
    plain.session = plain_session(model_path("minilm-l6-int8") / "model.onnx")
    reference = plain.encode(captions)
    assert np.abs(shipped - reference).max() < 1e-4
    assert (_nearest(shipped) == _nearest(reference)).all()


def test_int8_ranks_like_fp32(encoder: TextEncoder) -> None:
    """Against the fp32 model (torch): the int8 weights may move vectors a little, but a
    caption must still find the same nearest caption in nearly every case."""
    from sensorium.eval.datasets import tuxpaint_stamps

    captions = sorted({s.caption for s in tuxpaint_stamps()})[:200]
    ref = _fp32(captions)
    ours = encoder.encode(captions)
    agree = float((_nearest(ours) == _nearest(ref)).mean())
    assert agree >= 0.9, agree
