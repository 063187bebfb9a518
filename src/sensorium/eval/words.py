"""Isolated spoken words by real speakers (DATA.md: registry packages, none made here).

- Asterisk's ``digits/`` prompts (Debian ``asterisk-core-sounds-en-wav``): one speaker, 8 kHz;
  the ten digits, and 30 spoken numbers (0-20, the tens, hundred, thousand).
- KTuberling's English object names (Debian ``ktuberling-data``): another speaker, one word each
  ("hat", "umbrella", "pepperoni"), 71 words.

A word is *found* when its normalised spelling appears in the transcript (numbers compared as
words, spaces ignored: "palm tree" finds "palmtree").
"""

from __future__ import annotations

import re
from pathlib import Path

from sensorium.eval.datasets import DatasetMissingError, SpeechItem, isolated_words
from sensorium.eval.metrics import normalize_text

__all__ = [
    "DIGIT_WORDS",
    "KTUBERLING",
    "asterisk_digits",
    "asterisk_numbers",
    "found",
    "ktuberling_words",
]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
KTUBERLING = Path("/usr/share/ktuberling/sounds")
# The sound names that are not what is said ("egypt_palmtree" says "palm tree").
_KTUBERLING_SAID = {"palmtree": "palm tree", "fallingstar": "falling star", "sphynx": "sphinx",
                    "brocolli": "broccoli", "broccolli": "broccoli"}  # fmt: skip
_NUMBERS = [str(n) for n in range(21)] + [str(n) for n in range(30, 100, 10)]
_NUMBERS += ["hundred", "thousand"]


def _asterisk(stems: list[str]) -> list[SpeechItem]:
    by_stem = {i.path.stem: i for i in isolated_words()}
    return [by_stem[s] for s in stems if s in by_stem]


def asterisk_digits() -> list[SpeechItem]:
    """Asterisk's spoken digits 0-9 (10 clips, 8 kHz, about 0.6 s of speech each)."""
    return _asterisk([str(d) for d in range(10)])


def asterisk_numbers() -> list[SpeechItem]:
    """30 spoken numbers: 0-20, 30-90, hundred, thousand."""
    return _asterisk(_NUMBERS)


def ktuberling_words() -> list[SpeechItem]:
    """KTuberling's English object names, one recorded word each, in the theme's order."""
    theme = KTUBERLING / "en.soundtheme"
    if not theme.is_file():
        raise DatasetMissingError("KTuberling sounds", "ktuberling-data")
    items = []
    for name, file in re.findall(r'<sound name="([^"]+)" file="([^"]+)"', theme.read_text()):
        word = name.split("_", 1)[-1]  # "pizzeria_olive" -> "olive"
        if (KTUBERLING / file).is_file():
            items.append(SpeechItem(KTUBERLING / file, _KTUBERLING_SAID.get(word, word)))
    return items


def found(reference: str, hypothesis: str) -> bool:
    """Whether the reference word(s) appear in the hypothesis, after normalising both."""
    ref = normalize_text(reference).replace(" ", "")
    return bool(ref) and ref in normalize_text(hypothesis).replace(" ", "")
