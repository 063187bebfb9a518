"""Prompt templates that put class names and user labels into words, per modality.

A bridge's class prompts and a classifier's label prompts use the same template, so that
both sides of a comparison are phrased alike. The image bridge's class prompts, top-k and
temperature are swept on Tux Paint by ``benchmarks/bridge_sweep.py`` (docs/benchmarks.md).
"""

from __future__ import annotations

from sensorium.media.types import MediaKind

__all__ = ["TEMPLATES", "phrase"]

TEMPLATES: dict[MediaKind, str] = {
    MediaKind.IMAGE: "a photo of a {}.",
    MediaKind.AUDIO: "the sound of {}.",
    MediaKind.VIDEO: "a video of a {}.",
    MediaKind.TEXT: "{}",
}


def phrase(kind: MediaKind, labels: list[str]) -> list[str]:
    return [TEMPLATES[kind].format(label.strip()) for label in labels]
