"""Real features of a few Tux Paint stamps (photo, caption, sound), computed once."""

from __future__ import annotations

import numpy as np
import pytest

from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.fusion import FeatureSet
from sensorium.fusion.data import extract


@pytest.fixture(scope="session")
def stamps_features() -> FeatureSet:
    """24 stamps, 12 animals (most with a sound effect) and 12 vehicles: real encoder outputs."""
    stamps = tuxpaint_stamps()
    animals = [s for s in stamps if s.category == "animals" and s.sound][:12]
    vehicles = [s for s in stamps if s.category == "vehicles"][:12]
    chosen = animals + vehicles
    n = len(chosen)
    sound = np.zeros((n, 521), np.float32)
    have = [i for i, s in enumerate(chosen) if s.sound]
    sound[have] = extract("sound", [str(chosen[i].sound) for i in have])
    mask_sound = np.zeros(n, bool)
    mask_sound[have] = True
    return FeatureSet(
        features={"photo": extract("image", [str(s.image) for s in chosen]),
                  "caption": extract("text", [s.caption for s in chosen]), "sound": sound},
        mask={"photo": np.ones(n, bool), "caption": np.ones(n, bool), "sound": mask_sound},
        labels=np.array([0] * len(animals) + [1] * len(vehicles)),
        classes=["animals", "vehicles"], ids=[s.name for s in chosen],
        kinds={"photo": "image", "caption": "text", "sound": "sound"},
    )  # fmt: skip
