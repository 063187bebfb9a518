"""How the label bridges' settings were chosen: top-k, temperature and (for images) the class
prompts, swept on Tux Paint pairs. Chosen by mean R@1 (both directions) on the by-item
training captions (80%), then checked on the held-out 20% (``fusion.adapter.held_out_items``), so the
shipped defaults are not tuned on the figures they are judged by."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from sensorium import media
from sensorium.encoders.base import l2_normalize
from sensorium.engine import default_engine
from sensorium.eval.datasets import tuxpaint_sounds, tuxpaint_stamps
from sensorium.eval.metrics import recall_at_k
from sensorium.fusion.adapter import held_out_items
from sensorium.space import BridgeOptions, LabelBridge
from sensorium.space.space import image_class_prompts

TOP_K = (1, 3, 5, 10, 20, 50, 1000)
TEMPERATURE = (0.25, 0.5, 1.0, 2.0)


def _r1(vectors: np.ndarray, captions: np.ndarray) -> float:
    """Mean of medium → caption and caption → medium R@1."""
    return (recall_at_k(vectors @ captions.T)["R@1"] + recall_at_k(captions @ vectors.T)["R@1"]) / 2


def _sweep(scores: np.ndarray, prompts: dict[str, np.ndarray], names: list[str],
           captions: np.ndarray, test: np.ndarray) -> dict[str, Any]:  # fmt: skip
    rows = []
    for (prompt, vectors), k, t in itertools.product(prompts.items(), TOP_K, TEMPERATURE):
        bound = LabelBridge(names, vectors, BridgeOptions(top_k=k, temperature=t)).bind(scores)
        rows.append({"prompts": prompt, "top_k": k, "temperature": t,
                     "train": _r1(bound[~test], captions[~test]),
                     "test": _r1(bound[test], captions[test])})  # fmt: skip
    best = max(rows, key=lambda r: r["train"])
    return {"grid": rows, "chosen": best, "pairs": len(captions), "test_pairs": int(test.sum())}


def image() -> dict[str, Any]:
    stamps = tuxpaint_stamps()
    space = default_engine().space
    probs = space.image.run([media.load_image(s.image, min_side=224) for s in stamps]).probs
    names, short, long = image_class_prompts()
    e_short, e_long = space.text.encode(short), space.text.encode(long)
    prompts = {"name": space.text.encode(names), "a photo of a {name}.": e_short,
               "with description": e_long, "mean of both": l2_normalize(e_short + e_long)}  # fmt: skip
    captions = [s.caption for s in stamps]
    return _sweep(probs, prompts, names, space.text.encode(captions), held_out_items(captions))


def sound() -> dict[str, Any]:
    space = default_engine().space
    items = tuxpaint_sounds()
    scores = space.sound.run([media.load_audio(p.sound) for p in items]).scores
    bridge = space.sound_bridge
    captions = [p.caption for p in items]
    return _sweep(scores, {"the sound of {name}.": bridge.vectors}, bridge.classes,
                  space.text.encode(captions), held_out_items(captions))  # fmt: skip


def run() -> dict[str, Any]:
    return {"image": image(), "sound": sound()}
