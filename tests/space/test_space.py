"""The shared space on real media: a text query must land near the right image and sound."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sensorium import embed, embed_text, media
from sensorium.space import default_space


def test_text_finds_the_right_photo(photos: dict[str, Path]) -> None:
    names = list(photos)
    images = embed(photos.values())  # (4, 384)
    queries = embed_text(["a photo of a cat", "a cup of coffee"])
    best = (queries @ images.T).argmax(1)
    assert [names[i] for i in best] == ["chelsea", "coffee"]


def test_audio_parts(hello_wav: Path, crow_ogg: Path) -> None:
    speech, crow = default_space().embed([media.load(hello_wav), media.load(crow_ogg)])
    assert speech.transcript is not None and "hello" in speech.transcript.text.lower()
    assert set(speech.parts) == {"sound_labels", "transcript"}
    assert crow.transcript is None and set(crow.parts) == {"sound_labels"}  # no speech: no part
    greeting, bird = embed_text(["someone says hello", "a bird calling"])
    assert speech.vector @ greeting > crow.vector @ greeting
    assert crow.vector @ bird > speech.vector @ bird
    assert np.isfinite(speech.vector).all()
