"""Adapters for the real data sets of DATA.md (Debian packages; never copied into the repo).

Each adapter returns plain records and raises ``DatasetMissingError`` with the install command
when its package is not on the machine.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av

from sensorium.errors import SensoriumError

__all__ = [
    "SPEECH_EFFECTS",
    "DatasetMissingError",
    "SoundPair",
    "SpeechItem",
    "Stamp",
    "asterisk_prompts",
    "imagenet_photos",
    "isolated_words",
    "librivox",
    "named_faces",
    "openclipart_labelled",
    "pair_sets",
    "speech_set",
    "tuxpaint_captions",
    "tuxpaint_sounds",
    "tuxpaint_stamps",
]

TUXPAINT = Path("/usr/share/tuxpaint/stamps")
ASTERISK = Path("/usr/share/asterisk/sounds/en")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
OPENCLIPART = Path("/usr/share/openclipart/png")
# Openclipart folders that name what their pictures show, and the label each gives. The
# others hold icons, symbols, patterns and mixed scenes, which no short label names.
OPENCLIPART_LABELS = {
    "animals/mammals": "mammal", "animals/birds": "bird", "animals/bugs": "insect",
    "animals/fish": "fish", "animals/dinosaurs": "dinosaur", "food/fruit": "fruit",
    "food/desserts": "dessert", "food/beverages": "drink", "food/meats_and_eggs": "meat",
    "food/breads_and_carbs": "bread", "food/vegetables": "vegetable", "plants/flowers": "flower",
    "plants/trees": "tree", "transportation/vehicles": "car", "transportation/boating": "boat",
    "buildings/homes": "house", "buildings/furniture": "furniture", "tools/weapons": "weapon",
    "electronics/bulb": "light bulb", "electronics/battery": "battery",
    "recreation/music": "musical instrument", "recreation/toys": "toy",
    "people/clothing": "clothing", "office/telephone": "telephone",
}  # fmt: skip


class DatasetMissingError(SensoriumError):
    def __init__(self, name: str, package: str, installer: str = "apt-get install") -> None:
        super().__init__(f"{name} is not installed: {installer} {package}")


@dataclass(frozen=True)
class SpeechItem:
    path: Path
    text: str  # the reference transcript


@dataclass(frozen=True)
class Stamp:
    name: str  # relative path without suffix, e.g. "animals/marsupials/kangaroo"
    image: Path
    caption: str  # English caption, e.g. "A red kangaroo."
    category: str  # top-level folder, e.g. "animals"
    sound: Path | None  # a sound effect, for 440 stamps
    spoken: Path | None  # the caption spoken in English, for 66 stamps


def _require(path: Path, name: str, package: str) -> None:
    if not path.exists():
        raise DatasetMissingError(name, package)


def _duration(path: Path) -> float:
    with av.open(str(path)) as c:
        return float(c.duration or 0) / 1e6


def _asterisk(folder: str) -> list[SpeechItem]:
    """Asterisk prompts of one folder ("" is the top level) with a spoken-text transcript."""
    _require(ASTERISK, "asterisk-core-sounds-en-wav", "asterisk-core-sounds-en-wav")
    _require(ASTERISK_TEXT, "asterisk transcripts", "asterisk-core-sounds-en")
    items = []
    with gzip.open(ASTERISK_TEXT, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            name, sep, text = line.partition(":")
            name, text = name.strip(), text.strip()
            wav = ASTERISK / f"{name}.wav"
            if not sep or str(Path(name).parent).strip(".") != folder:
                continue
            if text and "[" not in text and wav.is_file():
                items.append(SpeechItem(wav, text))
    return sorted(items, key=lambda i: i.path.name)


def asterisk_prompts(max_seconds: float = 25.0) -> list[SpeechItem]:
    """Top-level Asterisk prompts with a transcript (no "[beep]"), at most 25 s long."""
    return [i for i in _asterisk("") if _duration(i.path) <= max_seconds]


def isolated_words() -> list[SpeechItem]:
    """Asterisk's spoken numbers (digits/): one or two isolated words each."""
    return _asterisk("digits")


def librivox() -> list[SpeechItem]:
    """5 LibriVox sentences from pocketsphinx-testdata."""
    _require(LIBRIVOX, "pocketsphinx test data", "pocketsphinx-testdata")
    items = []
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        m = re.match(r"<s>(.*)</s>\s*\((.+)\)", line.strip())
        if m:
            items.append(SpeechItem(LIBRIVOX / f"{m.group(2)}.wav", m.group(1).strip()))
    return items


def speech_set(n_asterisk: int = 40) -> list[SpeechItem]:
    """The speech test set of MODELS.md: 40 Asterisk prompts (evenly spread over the sorted
    eligible prompts, so every family of prompts is present) plus the 5 LibriVox sentences."""
    prompts = asterisk_prompts()
    step = len(prompts) / n_asterisk
    chosen = [prompts[int(i * step)] for i in range(min(n_asterisk, len(prompts)))]
    return chosen + librivox()


def _caption(txt: Path) -> str:
    first = txt.read_text(encoding="utf-8", errors="replace").splitlines()
    return first[0].strip() if first else ""


def tuxpaint_captions() -> list[str]:
    """Every Tux Paint stamp's caption in each of its languages (the English line and the
    ``LL.utf8=`` lines), each distinct text once, in file order: real short texts. Empty
    where Tux Paint is not installed."""
    out: list[str] = []
    for txt in sorted(TUXPAINT.rglob("*.txt")):
        for line in txt.read_text(errors="replace").splitlines():
            text = line.split("=", 1)[1] if ".utf8=" in line else line
            if text.strip():
                out.append(text.strip())
    return list(dict.fromkeys(out))


def tuxpaint_stamps() -> list[Stamp]:
    """Every Tux Paint stamp with a PNG and an English caption, sorted by name."""
    _require(TUXPAINT, "Tux Paint stamps", "tuxpaint-stamps-default")
    stamps = []
    for png in sorted(TUXPAINT.rglob("*.png")):
        txt = png.with_suffix(".txt")
        caption = _caption(txt) if txt.is_file() else ""
        if not caption:
            continue
        sound = png.with_suffix(".ogg")
        spoken = png.with_name(png.stem + "_desc.ogg")
        stamps.append(
            Stamp(
                name=str(png.relative_to(TUXPAINT).with_suffix("")),
                image=png,
                caption=caption,
                category=png.relative_to(TUXPAINT).parts[0],
                sound=sound if sound.is_file() else None,
                spoken=spoken if spoken.is_file() else None,
            )
        )
    return stamps


@dataclass(frozen=True)
class SoundPair:
    sound: Path
    caption: str
    speech: bool  # the effect is a voice saying the stamp's name (see SPEECH_EFFECTS)


# Tux Paint sound effects that are a voice, not an event: letters and digits say their own
# name, dreidel letters are spoken Hebrew letter names, the lunar lander quotes Armstrong.
SPEECH_EFFECTS = ("symbols/", "dreydl-", "apollo_lander")


def tuxpaint_sounds() -> list[SoundPair]:
    """Every Tux Paint sound effect (``NAME.ogg``, not the spoken ``_desc``) with its caption."""
    _require(TUXPAINT, "Tux Paint stamps", "tuxpaint-stamps-default")
    pairs = []
    for ogg in sorted(TUXPAINT.rglob("*.ogg")):
        txt = ogg.with_suffix(".txt")
        if "_desc" in ogg.stem or not txt.is_file() or not _caption(txt):
            continue
        rel = str(ogg.relative_to(TUXPAINT))
        speech = any(key in rel for key in SPEECH_EFFECTS)
        pairs.append(SoundPair(ogg, _caption(txt), speech))
    return pairs


def openclipart_labelled() -> list[tuple[Path, str]]:
    """(image, label) for the openclipart folders of ``OPENCLIPART_LABELS`` (about 1,000
    clip-art pictures): a labelled image set that no adapter here is trained on."""
    _require(OPENCLIPART, "Openclipart", "openclipart-png")
    return [(png, label) for folder, label in OPENCLIPART_LABELS.items()
            for png in sorted((OPENCLIPART / folder).rglob("*.png"))]  # fmt: skip


def imagenet_photos() -> list[tuple[Path, str]]:
    """(photo, ImageNet class name) for the ImageNet validation photos that the PyPI package
    ``foolbox`` ships (``foolbox/data/imagenet_NN_CLASS.jpg``; install it with ``--no-deps``:
    only its files are read, never imported). Real photos, labelled with the class index, named
    here by the engine's class names (the card's clean names, each naming one class)."""
    spec = importlib.util.find_spec("foolbox")  # locates the package without importing it
    folders = list(spec.submodule_search_locations or []) if spec else []
    files = sorted(Path(folders[0], "data").glob("imagenet_*.jpg")) if folders else []
    if not files:
        raise DatasetMissingError("ImageNet sample photos", "foolbox", "pip install --no-deps")

    from sensorium.space.space import image_class_prompts  # the space loads models: lazily

    names = image_class_prompts()[0]
    return [(f, names[int(f.stem.rsplit("_", 1)[1])]) for f in files]


def pair_sets() -> dict[str, Callable[[], list[tuple[str, str]]]]:
    """Named CSV-ready pair lists for `sensorium eval pairs NAME` (real data, DATA.md)."""
    return {
        "tuxpaint-photo": lambda: [(str(s.image), s.caption) for s in tuxpaint_stamps()],
        "tuxpaint-sound": lambda: [(str(p.sound), p.caption) for p in tuxpaint_sounds()],
        "tuxpaint-spoken": lambda: [
            (str(s.spoken), s.caption) for s in tuxpaint_stamps() if s.spoken
        ],
        "tuxpaint-category": lambda: [(str(s.image), s.category) for s in tuxpaint_stamps()],
        "speech": lambda: [(str(i.path), i.text) for i in speech_set()],
    }


# Photos of named people that a registry ships. face_recognition 1.3.0's sdist (PyPI, MIT)
# holds its test photos: Barack Obama five times (obama, obama2, obama3 and two photos where
# his face is cut by the frame) and Joe Biden once; scikit-image's astronaut is Eileen
# Collins and matplotlib's sample photo is Grace Hopper. No other package opened for issue 24
# ships several photos of one named person (docs/benchmarks.md, "People", lists them).
FACE_RECOGNITION_SDIST = "face_recognition==1.3.0"
_SDIST_PHOTOS = "face_recognition-1.3.0/tests/test_images"
_NAMED = {"obama": "Barack Obama", "obama2": "Barack Obama", "obama3": "Barack Obama",
          "obama_partial_face": "Barack Obama", "obama_partial_face2": "Barack Obama",
          "biden": "Joe Biden"}  # fmt: skip


def named_faces() -> dict[Path, str]:
    """Real photos of named people -> who is in them (one face each): face_recognition's
    test photos (``scripts/setup.sh`` unpacks them from the sdist into the data cache),
    scikit-image's astronaut and matplotlib's Grace Hopper."""
    import matplotlib.cbook
    import skimage

    from sensorium import config

    folder = config.home() / "data" / _SDIST_PHOTOS
    if not (folder / "obama.jpg").is_file():
        raise DatasetMissingError("face_recognition's test photos", FACE_RECOGNITION_SDIST,
                                  "bash scripts/setup.sh; or pip download --no-binary :all:")
    out = {folder / f"{stem}.jpg": who for stem, who in _NAMED.items()}
    out[Path(skimage.__file__).parent / "data" / "astronaut.png"] = "Eileen Collins"
    out[Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))] = (
        "Grace Hopper")  # fmt: skip
    return out
