"""Real labelled photos (ImageNet validation photos from ``foolbox``) and videos built of them."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from sensorium.eval.datasets import DatasetMissingError, imagenet_photos
from sensorium.eval.videos import photo_videos
from sensorium.media import load_audio


@pytest.fixture(scope="module")
def photos() -> list[tuple[Path, str]]:
    try:
        return imagenet_photos()
    except DatasetMissingError as e:
        pytest.fail(f"{e} (scripts/setup.sh --bench installs it)")


def test_imagenet_photos_are_labelled_with_class_names(photos: list[tuple[Path, str]]) -> None:
    assert len(photos) == 20 and all(p.is_file() for p, _ in photos)
    assert dict((p.name, label) for p, label in photos)["imagenet_00_243.jpg"] == "Bullmastiff"


def test_photo_videos_half_spoken_half_silent(
    photos: list[tuple[Path, str]], tmp_path: Path
) -> None:
    videos = photo_videos(tmp_path, photos[:10])
    assert [v.path.name for v in videos] == ["photos-00-spoken.mp4", "photos-01-silent.mp4"]
    for v in videos:
        assert len(v.intervals) == 5 and {lb for _, _, lb in v.intervals} <= {
            lb for _, lb in photos
        }
        with av.open(str(v.path)) as c:
            frame = next(c.decode(video=0)).to_ndarray(format="rgb24")  # (240, 320, 3)
        assert frame.shape == (240, 320, 3) and frame[:4].min() < 200  # the photo fills it
    spoken, silent = (np.abs(load_audio(v.path).samples).max() for v in videos)
    assert spoken > 0.05 and silent < 1e-3
