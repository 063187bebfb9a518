"""Gather real sample media that installs offline (DATA.md) into one folder, for the demo.

library/  what the demo ingests: Tux Paint animal photos and their sound effects, scikit-image
          and scikit-learn photos, Asterisk voice prompts and LibriVox sentences, three
          videos of Tux Paint animals named aloud, and one corrupt file (the error path);
queries/  media to search with that are not in the library: a photo of a cat (scikit-image)
          and a sheep's bleat (Tux Paint).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import skimage.data
from PIL import Image
from sklearn.datasets import load_sample_image

from sensorium.eval.videos import tuxpaint_videos

STAMPS = Path("/usr/share/tuxpaint/stamps")
ASTERISK = Path("/usr/share/asterisk/sounds/en")
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
PHOTOS = ["astronaut", "coffee", "rocket"]
# scikit-image's "horse" is a black silhouette, which no photo classifier reads as a horse (it
# says Great Dane); Tux Paint's horse is a photograph, flattened onto white
HORSE = "animals/mammals/equines/horse.png"
PROMPTS = [
    "hello-world",
    "conf-onlyperson",
    "agent-pass",
    "vm-password",
    "queue-thankyou",
    "conf-getpin",
    "vm-goodbye",
    "tt-weasels",
    "dir-welcome",
    "privacy-unident",
    "call-forwarding",
    "vm-nomore",
    "conf-locked",
    "auth-incorrect",
    "vm-youhave",
]
QUERY_SOUND = "animals/mammals/bovines/sheep.ogg"


def _save(array: object, path: Path) -> None:
    Image.fromarray(array).convert("RGB").save(path)  # type: ignore[arg-type]


def main(dest: Path) -> None:
    lib, queries = dest / "library", dest / "queries"
    for sub in ("photos", "stamps", "sounds", "speech"):
        (lib / sub).mkdir(parents=True, exist_ok=True)
    queries.mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        _save(getattr(skimage.data, name)(), lib / "photos" / f"{name}.jpg")
    _save(skimage.data.stereo_motorcycle()[0], lib / "photos" / "motorcycle.jpg")
    horse = Image.open(STAMPS / HORSE).convert("RGBA")
    white = Image.new("RGBA", horse.size, "white")
    Image.alpha_composite(white, horse).convert("RGB").save(lib / "photos" / "horse.jpg")
    for name in ("china.jpg", "flower.jpg"):
        _save(load_sample_image(name), lib / "photos" / name)
    for png in sorted((STAMPS / "animals").rglob("*.png")):
        shutil.copy(png, lib / "stamps" / png.name)
    for ogg in sorted((STAMPS / "animals").rglob("*.ogg")):
        rel = str(ogg.relative_to(STAMPS))
        if "_desc" not in ogg.stem and rel != QUERY_SOUND:
            shutil.copy(ogg, lib / "sounds" / ogg.name)
    for name in PROMPTS:
        if (ASTERISK / f"{name}.wav").is_file():
            shutil.copy(ASTERISK / f"{name}.wav", lib / "speech" / f"{name}.wav")
    for wav in sorted(LIBRIVOX.glob("*.wav")):
        shutil.copy(wav, lib / "speech" / wav.name)
    (lib / "sounds" / "broken.ogg").write_bytes(b"OggS\x00\x02" + b"\x00" * 200)
    # Three videos of Tux Paint animals, each named aloud while it is on screen.
    tuxpaint_videos(lib / "videos", n_videos=3)
    _save(skimage.data.chelsea(), queries / "cat.jpg")
    shutil.copy(STAMPS / QUERY_SOUND, queries / "sheep.ogg")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
