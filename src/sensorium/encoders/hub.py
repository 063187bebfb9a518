"""What the hub models share (CLIP, CLAP, BLIP): loading through transformers from a card's
hub id or a saved folder; and, for the contrastive ones (CLIP, CLAP), embedding texts and
zero-shot posteriors over a fixed list of prompts.

No registry package ships such weights (MODELS.md), so these are for users who have a hub
(``pip install 'sensorium[hub]'``); the default offline space never loads them. transformers
reads safetensors and never unpickles a checkpoint without ``weights_only``. A source is a
card name (its hub id is used) or a folder saved with ``save_pretrained``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from sensorium.encoders.base import l2_normalize
from sensorium.errors import ModelError, UsageError
from sensorium.models import get_card

__all__ = ["HubContrastive", "ZeroShotOutput", "load_pretrained", "resolve_source"]


@dataclass(frozen=True)
class ZeroShotOutput:
    features: np.ndarray  # (N, D) the model's own embeddings, L2-normalised
    probs: np.ndarray  # (N, C) softmax over the class prompts


def resolve_source(source: str, task: str) -> str:
    """A card name (-> its hub id) or a saved folder -> what transformers loads from."""
    if Path(source).is_dir():
        return source
    try:
        card = get_card(source)
    except UsageError as e:
        raise UsageError(f"model {source!r} is neither a folder nor a card ({e})") from e
    if card.task != task or not card.hub:
        raise UsageError(f"{source} is not an {task} model on a hub")
    return card.hub


def load_pretrained(
    name: str, where: str, model_class: str, processor_class: str
) -> tuple[Any, Any]:
    """A transformers model (in eval mode) and its processor, or one ``ModelError`` line."""
    try:
        import transformers
    except ImportError as e:
        raise ModelError(f"{name} needs transformers: pip install 'sensorium[hub]'") from e
    try:
        model = getattr(transformers, model_class).from_pretrained(where).eval()
        processor = getattr(transformers, processor_class).from_pretrained(where)
    except (OSError, ValueError) as e:  # no hub reachable, no such id, a broken folder
        cause = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(f"cannot load {name} from {where}: {cause}") from e
    return model, processor


def pooled(out: Any) -> Any:
    """transformers < 5 returns the projected tensor, 5 a model output holding it."""
    return out if hasattr(out, "shape") else out.pooler_output


class HubContrastive:
    """Base of the hub encoders; a subclass names its transformers classes and card task."""

    task = ""
    model_class = ""
    processor_class = ""
    scale_name = "logit_scale"  # the learned temperature, medium -> text
    default_source = ""  # the card used when none is named
    batch_size = 16

    def __init__(self, source: str | None = None, class_prompts: list[str] | None = None) -> None:
        self.name = source or self.default_source
        self.model, self.processor = load_pretrained(
            self.name, resolve_source(self.name, self.task), self.model_class, self.processor_class
        )
        self.dim = int(self.model.config.projection_dim)
        self.logit_scale = float(getattr(self.model, self.scale_name).detach().exp())
        self.class_prompts = class_prompts or []

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """(L,) texts -> (L, dim), rows L2-normalised, comparable with the medium's."""
        import torch

        out = []
        for start in range(0, len(texts), 256):
            tokens = self.processor.tokenizer(
                texts[start : start + 256], padding=True, truncation=True, return_tensors="pt"
            )
            with torch.inference_mode():
                out.append(pooled(self.model.get_text_features(**tokens)).numpy())
        return l2_normalize(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)

    @cached_property
    def class_vectors(self) -> np.ndarray:
        """(C, dim) the class prompts, encoded once."""
        if not self.class_prompts:
            raise UsageError(f"{self.name}: no class prompts to give posteriors over")
        return self.encode_texts(self.class_prompts)

    def zero_shot(self, features: np.ndarray) -> ZeroShotOutput:
        """(N, dim) the medium's embeddings -> posteriors over the class prompts."""
        logits = self.logit_scale * features @ self.class_vectors.T  # (N, C)
        e = np.exp(logits - logits.max(1, keepdims=True))
        return ZeroShotOutput(features, e / e.sum(1, keepdims=True))
