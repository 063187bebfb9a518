"""Gather real sample media that installs offline into one folder (for the demo).

Photos: scikit-image and scikit-learn sample images. Sounds: Tux Paint sound effects.
Speech: Asterisk prompts and a LibriVox sentence. Plus one corrupt file, to show the error path.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import skimage.data
from PIL import Image
from sklearn.datasets import load_sample_image

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "horse"]
SOUNDS = [
    "animals/birds/crow.ogg",
    "animals/mammals/bovines/sheep.ogg",
    "animals/mammals/dogs/dog.ogg",
    "hobbies/music/percussion/drumkit.ogg",
    "household/Washing-machine.ogg",
]
SPEECH = [
    "/usr/share/asterisk/sounds/en/hello-world.wav",
    "/usr/share/asterisk/sounds/en/conf-onlyperson.wav",
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
]


def main(dest: Path) -> None:
    for sub in ("photos", "sounds", "speech"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        Image.fromarray(getattr(skimage.data, name)()).convert("RGB").save(
            dest / "photos" / f"{name}.jpg"
        )
    motorcycle = skimage.data.stereo_motorcycle()[0]
    Image.fromarray(motorcycle).save(dest / "photos" / "motorcycle.jpg")
    for name in ("china.jpg", "flower.jpg"):
        Image.fromarray(load_sample_image(name)).save(dest / "photos" / name)
    stamps = Path("/usr/share/tuxpaint/stamps")
    for rel in SOUNDS:
        if (stamps / rel).is_file():
            shutil.copy(stamps / rel, dest / "sounds" / Path(rel).name)
    (dest / "sounds" / "broken.ogg").write_bytes(b"OggS\x00\x02" + b"\x00" * 200)
    for p in SPEECH:
        if Path(p).is_file():
            shutil.copy(p, dest / "speech" / Path(p).name)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
