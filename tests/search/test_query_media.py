"""A query file of the wrong kind is refused, naming it, rather than searched by what it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensorium.collection import Collection
from sensorium.errors import UnsupportedMediaError


def test_a_sound_as_the_image_and_a_photo_as_the_sound(
    tmp_path: Path, photos: dict[str, Path], crow_ogg: Path
) -> None:
    coll = Collection(tmp_path / "db")
    assert not coll.ingest([photos["coffee"], crow_ogg]).failed
    with pytest.raises(UnsupportedMediaError, match="the query image holds audio, not image"):
        coll.search(image=crow_ogg)
    with pytest.raises(UnsupportedMediaError, match="the query audio holds image, not audio"):
        coll.search(audio=photos["coffee"])
    assert coll.search(image=photos["coffee"], k=1)[0].item.path == str(photos["coffee"])
    assert Path(coll.search(audio=crow_ogg, k=1)[0].item.path).name == "crow.ogg"
