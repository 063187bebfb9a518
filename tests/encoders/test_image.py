"""EfficientNet-Lite0: the ONNX fast path against plain torch eager, on real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorium import media
from sensorium.encoders import ImageEncoder
from sensorium.encoders.image import preprocess
from sensorium.models import model_path
from sensorium.models.prepare import efficientnet_torch


@pytest.fixture(scope="module")
def encoder() -> ImageEncoder:
    return ImageEncoder()


def test_outputs(encoder: ImageEncoder, photos: dict[str, Path]) -> None:
    out = encoder.run([media.load_image(p) for p in photos.values()])
    assert out.features.shape == (4, 1280) and out.probs.shape == (4, 1000)
    assert np.allclose(out.probs.sum(1), 1, atol=1e-4)
    assert np.allclose(np.linalg.norm(out.features, axis=1), 1, atol=1e-5)


def test_real_photos_get_the_right_imagenet_classes(
    encoder: ImageEncoder, photos: dict[str, Path]
) -> None:
    def top5(name: str) -> list[str]:
        probs = encoder.run([media.load_image(photos[name])]).probs[0]
        return [encoder.classes[i] for i in np.argsort(-probs)[:5]]

    assert any("cat" in c or "Mau" in c for c in top5("chelsea"))
    assert any("espresso" in c or "cup" in c for c in top5("coffee"))


def test_onnx_matches_torch_eager(encoder: ImageEncoder, photos: dict[str, Path]) -> None:
    torch = pytest.importorskip("torch")
    net = efficientnet_torch(model_path("efficientnet-lite0"))
    images = [media.load_image(p) for p in photos.values()]
    pixels = torch.from_numpy(np.stack([preprocess(m.image) for m in images]))
    with torch.no_grad():
        ref = torch.softmax(net(pixels), 1).numpy()
    assert np.abs(encoder.run(images).probs - ref).max() < 1e-4


def test_framing_by_kind_of_image(photos: dict[str, Path], stamp_png: Path) -> None:
    """A cut-out on white is fitted whole; a photo is centre-cropped (issue 12)."""
    from sensorium.encoders.image import framing, is_cutout

    assert is_cutout(media.load_image(stamp_png).image)
    assert [framing(media.load_image(p).image) for p in photos.values()] == ["crop"] * 4
    photo = media.load_image(photos["astronaut"]).image
    for mode in ("auto", "fit", "crop"):
        assert preprocess(photo, mode).shape == (3, 224, 224)
    fitted = preprocess(photo.resize((448, 224)), "fit")  # a wide photo: white above and below
    assert np.allclose(fitted[:, 0], 1.0) and not np.allclose(preprocess(photo, "crop")[:, 0], 1.0)
    with pytest.raises(ValueError):
        preprocess(photo, "stretch")


def test_photos_are_cropped_and_cut_outs_fitted(
    encoder: ImageEncoder, photos: dict[str, Path], stamp_png: Path
) -> None:
    images = [media.load_image(photos["chelsea"]), media.load_image(stamp_png)]
    auto = encoder.run(images).probs
    crop = ImageEncoder(framing="crop").run(images[:1]).probs
    fit = ImageEncoder(framing="fit").run(images[1:]).probs
    assert np.allclose(auto, np.concatenate([crop, fit]), atol=1e-5)
