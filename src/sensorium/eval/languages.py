"""Parallel text on every Debian machine: Tux Paint captions and gettext catalogues.

Tux Paint's ``NAME.txt`` holds a stamp's English caption on its first line, then
``LL.utf8=...`` lines in about 100 languages. Debian's ``.mo`` catalogues pair English
interface strings (msgid) with their translations. Both are parallel text: the captions are
the test set for queries in other languages, the catalogues (and the fit half of the
stamps) are what the multilingual alignment is fitted on.
"""

from __future__ import annotations

import gettext
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensorium.encoders.base import Encoder
from sensorium.eval.datasets import TUXPAINT, DatasetMissingError, Stamp, tuxpaint_stamps
from sensorium.space.language import Alignment

__all__ = [
    "FIT_LANGUAGES",
    "LANGUAGES",
    "LOCALE",
    "Captions",
    "catalogue_pairs",
    "fit_alignment",
    "fit_half",
    "fit_pairs",
    "require_tuxpaint",
    "stamp_captions",
]

# The languages issue 24 names; each must reach 0.9 of the English figure.
LANGUAGES = ("de", "fr", "es", "it", "nl", "pt", "ru", "zh_CN", "ja")
LOCALE = Path("/usr/share/locale")
_LINE = re.compile(r"^([A-Za-z_@]+)\.utf8=(.*)$")


@dataclass(frozen=True)
class Captions:
    stamp: Stamp
    by_language: dict[str, str]  # "de" -> "Ein rotes Känguru.", English under "en"


def fit_half(name: str) -> bool:
    """True for the stamps the alignment may be fitted on: a hash of the name splits them in
    two halves, fixed across machines and runs. The other half is only ever evaluated."""
    return hashlib.sha256(name.encode()).digest()[0] % 2 == 0


def _captions(stamp: Stamp) -> dict[str, str]:
    lines = stamp.image.with_suffix(".txt").read_text("utf-8", errors="replace").splitlines()
    out = {"en": stamp.caption}
    for line in lines[1:]:
        m = _LINE.match(line.strip())
        if m and m.group(2).strip():
            out.setdefault(m.group(1), m.group(2).strip())
    return out


def stamp_captions() -> list[Captions]:
    """Every stamp with its caption in each language it has, sorted by stamp name."""
    return [Captions(s, _captions(s)) for s in tuxpaint_stamps()]


# Interface strings that say nothing a photo could show: format codes, markup, shortcuts.
_NOISE = re.compile(r"[%{}<>\\/=|@#$^*\[\]]|\.\.\.|^[^A-Za-z]*$")


def _usable(english: str, translated: str) -> bool:
    return (
        3 <= len(english) <= 80
        and "\n" not in english
        and not _NOISE.search(english)
        and bool(translated.strip())
        and translated.strip() != english
    )


def _read_mo(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as f:
            catalog: dict[object, str] = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    except (OSError, UnicodeDecodeError, ValueError):  # a broken or non-UTF-8 catalogue
        return {}
    out = {}
    for key, value in catalog.items():
        if isinstance(key, str) and key:  # plural forms are keyed by (msgid, n): skipped
            english = key.split("\x04")[-1].replace("_", "").replace("&", "")  # context, mnemonics
            translated = value.replace("_", "").replace("&", "")
            if _usable(english, translated):
                out[english] = translated
    return out


def catalogue_pairs(language: str, limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` (English, translation) pairs from the installed ``.mo`` catalogues of
    ``language`` (a locale folder name: "de", "zh_CN"), in a fixed order, one per English
    string."""
    folder = LOCALE / language / "LC_MESSAGES"
    if not folder.is_dir():
        return []
    pairs: dict[str, str] = {}
    for mo in sorted(folder.glob("*.mo")):
        for english, translated in _read_mo(mo).items():
            pairs.setdefault(english, translated)
    # A hash order, not file order: every catalogue contributes, not only the first few; the
    # language is in the hash so that each language brings other English strings.
    salt = language.encode()
    ordered = sorted(pairs.items(), key=lambda p: hashlib.sha256(salt + p[0].encode()).digest())
    return ordered[:limit]


def require_tuxpaint() -> None:
    if not TUXPAINT.exists():
        raise DatasetMissingError("Tux Paint stamps", "tuxpaint-stamps-default")


# USE multilingual v3's languages, as locale folders: the fit takes its pairs from these.
FIT_LANGUAGES = ("ar", "de", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "pt_BR", "ru",
                 "th", "tr", "zh_CN", "zh_TW")  # fmt: skip


def fit_pairs(per_language: int = 1500) -> list[tuple[str, str]]:
    """(English, translation) pairs to fit the alignment on: ``per_language`` catalogue
    strings of each fit language, and the captions of the fit half of the stamps only."""
    pairs = [p for lang in FIT_LANGUAGES for p in catalogue_pairs(lang, per_language)]
    for c in stamp_captions():
        if fit_half(c.stamp.name):
            pairs += [(c.by_language["en"], c.by_language[lang])
                      for lang in FIT_LANGUAGES if lang in c.by_language]  # fmt: skip
    return pairs


def fit_alignment(
    english: Encoder[str], multilingual: Encoder[str], bank: list[str],
    per_language: int = 1500, ridge: float = 0.1,
) -> Alignment:  # fmt: skip
    """The alignment of ``sensorium.space.language``: the linear map fitted on ``fit_pairs``
    (each translation -> its English sentence's vector, and each English sentence -> its own)
    and the retrieval bank of English ``bank`` names."""
    pairs = fit_pairs(per_language)
    en = sorted({e for e, _ in pairs})
    target = dict(zip(en, english.encode(en)))  # English -> (384,)
    sources = en + [t for _, t in pairs]
    x = multilingual.encode(sources)  # (E + P, 512)
    y = np.stack([target[e] for e in en] + [target[e] for e, _ in pairs])  # (E + P, 384)
    weight, bias = Alignment.fit_linear(x, y, ridge)
    return Alignment(weight, bias, multilingual.encode(bank), english.encode(bank))
