"""The shared, language-bound space: label bridges, derived text, and their mixing."""

from sensorium.space.adapter import LinearAdapter
from sensorium.space.bridge import BridgeOptions, LabelBridge
from sensorium.space.parts import Part, mix
from sensorium.space.space import DIM, Embedded, SharedSpace, SpaceOptions

__all__ = [
    "DIM",
    "BridgeOptions",
    "Embedded",
    "LabelBridge",
    "LinearAdapter",
    "Part",
    "SharedSpace",
    "SpaceOptions",
    "mix",
]
