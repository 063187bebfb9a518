"""The parts of an item, one vocabulary everywhere, and the one rule that mixes them.

An item is placed in the shared space by what it holds: what is ``seen`` (an image's or a
frame's classes through the image bridge), ``heard`` (a sound's classes through the sound
bridge), ``said`` (a transcript), ``written`` (text read in an image), ``faces`` (the faces found,
in words) and ``text`` (a text file's own words). Each part present has a vector in the space
and a weight, its confidence times a prior (``SpaceOptions``); the item's vector is their
weighted sum, normalised. Images, audio clips, video segments and stored items all use these
names, and the space, the video layer and search all mix with ``mix``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import numpy as np

from sensorium.encoders.base import l2_normalize

__all__ = ["Part", "mix"]


class Part(StrEnum):
    SEEN = "seen"
    HEARD = "heard"
    SAID = "said"
    WRITTEN = "written"
    FACES = "faces"
    TEXT = "text"


def mix(weights: Mapping[str, float], vectors: Mapping[str, np.ndarray]) -> np.ndarray:
    """The weighted sum of the parts that have both a weight and a (384,) vector, L2-normalised
    to (384,). A part with no vector adds nothing; so an item whose derived text is missing
    keeps exactly its other parts' vector."""
    names = [n for n in weights if n in vectors]
    if not names:
        raise ValueError("nothing to mix: no part has both a weight and a vector")
    total = np.sum([weights[n] * vectors[n] for n in names], axis=0)  # (384,)
    return l2_normalize(np.asarray(total, np.float32)[None])[0]
