"""Tiny hub checkpoints (CLIP, CLAP) that the tests build and save themselves.

No registry ships these weights and this machine has no hub, so the "hub" is a folder holding
a randomly initialised 2-layer model and a byte-level tokenizer, written by ``save_pretrained``
exactly as hub checkpoints are. Random weights make scores meaningless: the tests check that
our path gives the numbers transformers' own forward pass gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _byte_alphabet() -> list[str]:
    """The byte-level BPE alphabet (GPT-2, CLIP, RoBERTa): one printable symbol per byte."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
            *range(ord("®"), ord("ÿ") + 1)]  # fmt: skip
    extra = [b for b in range(256) if b not in keep]
    return [chr(b) for b in keep] + [chr(256 + i) for i in range(len(extra))]


def _libs() -> tuple[Any, Any]:
    return pytest.importorskip("transformers"), pytest.importorskip("torch")


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    transformers, torch = _libs()
    out = tmp_path_factory.mktemp("clip")
    chars = _byte_alphabet()
    vocab = {c: i for i, c in enumerate(chars)}  # each symbol alone and word-final: no merges
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab["<|startoftext|>"], vocab["<|endoftext|>"] = len(vocab), len(vocab) + 1
    tokenizer = transformers.CLIPTokenizerFast(vocab=vocab, merges=[])
    end = vocab["<|endoftext|>"]
    config = transformers.CLIPConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 2, "num_attention_heads": 2, "eos_token_id": end,
                     "bos_token_id": vocab["<|startoftext|>"], "pad_token_id": end},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                       "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.CLIPModel(config).save_pretrained(out)
    images = transformers.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    transformers.CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_clap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    transformers, torch = _libs()
    out = tmp_path_factory.mktemp("clap")
    vocab = {s: i for i, s in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])}
    vocab.update({c: len(vocab) + i for i, c in enumerate(_byte_alphabet())})
    tokenizer = transformers.RobertaTokenizerFast(vocab=vocab, merges=[])
    # HTSAT's spectrogram "image" must stay 256 wide for 64 mel bins; everything else is tiny
    config = transformers.ClapConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 2, "num_attention_heads": 2,
                     "max_position_embeddings": 80, "pad_token_id": 1, "bos_token_id": 0,
                     "eos_token_id": 2},
        audio_config={"spec_size": 256, "window_size": 8, "num_mel_bins": 64,
                      "depths": [1, 1], "num_attention_heads": [2, 2],
                      "patch_embeds_hidden_size": 16, "hidden_size": 32, "enable_fusion": False},
        projection_dim=16,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.ClapModel(config).save_pretrained(out)
    features = transformers.ClapFeatureExtractor(feature_size=64, sampling_rate=48_000,
                                                 truncation="rand_trunc")  # fmt: skip
    transformers.ClapProcessor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(out)
    return out
