"""Shared fixtures: real sample media (DATA.md), never synthesised where real data exists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from sensorium.eval.datasets import ASTERISK, LIBRIVOX, TUXPAINT


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} missing: run scripts/setup.sh (it installs the data packages)")
    return path


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """scikit-image sample photos saved as JPEG."""
    folder = tmp_path_factory.mktemp("photos")
    out = {}
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        out[name] = folder / f"{name}.jpg"
        Image.fromarray(getattr(skimage.data, name)()).convert("RGB").save(out[name])
    return out


@pytest.fixture(scope="session")
def stamp_png() -> Path:
    """A Tux Paint cut-out with transparency."""
    return _need(TUXPAINT / "animals/marsupials/kangaroo.png")


@pytest.fixture(scope="session")
def crow_ogg() -> Path:
    return _need(TUXPAINT / "animals/birds/crow.ogg")


@pytest.fixture(scope="session")
def hello_wav() -> Path:
    """A human speaker saying "Hello world", 8 kHz WAV."""
    return _need(ASTERISK / "hello-world.wav")


@pytest.fixture(scope="session")
def librivox_wav() -> Path:
    return _need(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav")


@pytest.fixture()
def silence() -> np.ndarray:
    return np.zeros(16000 * 3, np.float32)


# -- videos built from real parts (DATA.md: no registry ships labelled video) ----------------

ANIMALS = ("animals/mammals/elephant", "animals/birds/penguin", "animals/mammals/cats/lion")


def _stamp_shots(seconds: tuple[float, ...] = (4.0, 5.0, 4.0)) -> list:  # type: ignore[type-arg]
    from sensorium.eval.datasets import tuxpaint_stamps
    from sensorium.eval.videos import Shot, _query

    stamps = {s.name: s for s in tuxpaint_stamps()}
    chosen = [stamps[n] for n in ANIMALS]
    return [Shot(s.image, t, s.spoken, _query(s.caption)) for s, t in zip(chosen, seconds)]


@pytest.fixture(scope="session")
def shots() -> list:  # type: ignore[type-arg]
    """Three Tux Paint animals (elephant, penguin, lion), each said aloud in its shot."""
    _need(TUXPAINT)
    return _stamp_shots()


@pytest.fixture(scope="session")
def animal_video(tmp_path_factory: pytest.TempPathFactory, shots: list):  # type: ignore[no-untyped-def,type-arg]
    """13 s MP4 (H.264 + AAC): elephant 0-4 s, penguin 4-9 s, lion 9-13 s, each named aloud."""
    from sensorium.eval.videos import write_video

    return write_video(tmp_path_factory.mktemp("video") / "animals.mp4", shots)


@pytest.fixture()
def truncated_mkv(tmp_path: Path, shots: list) -> Path:  # type: ignore[type-arg]
    """The animals as a Matroska file cut halfway (a download that stopped)."""
    from sensorium.eval.videos import write_video

    whole = write_video(tmp_path / "whole.mkv", shots)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.path.read_bytes()[: whole.path.stat().st_size // 2])
    return cut
