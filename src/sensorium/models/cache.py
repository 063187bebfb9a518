"""The local model cache: which cards are ready, and verified paths to their files.

A card is ready when its folder holds a manifest, written last by the installer. Before a
model's files are handed to a loader they are hashed again (once per process) against the
card, or against the manifest for files derived at install time: an altered file is never
loaded.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from sensorium import config
from sensorium.errors import ChecksumError, ModelNotInstalledError
from sensorium.models.card import ModelCard, get_card

__all__ = ["MANIFEST", "card_dir", "is_ready", "model_path", "sha256_file", "write_manifest"]

MANIFEST = "manifest.json"


def card_dir(name: str) -> Path:
    return config.models_dir() / name


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(card: ModelCard, derived: dict[str, str]) -> None:
    """Record the verified files (and the hashes of derived ones); written last, atomically."""
    folder = card_dir(card.name)
    data = {
        "name": card.name,
        "files": {f.dest: f.sha256 for f in card.files},
        "derived": derived,
    }
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(folder / MANIFEST)


def _expected(card: ModelCard) -> dict[str, str]:
    manifest = card_dir(card.name) / MANIFEST
    if not manifest.is_file():
        raise ModelNotInstalledError(card.name)
    derived: dict[str, str] = json.loads(manifest.read_text())["derived"]
    if card.derived and not derived:  # installed before the card had its preparation step
        raise ModelNotInstalledError(card.name)
    return {**{f.dest: f.sha256 for f in card.files}, **derived}


def is_ready(card: ModelCard) -> bool:
    """Cheap check: manifest present and every file there (hashes are checked on load)."""
    try:
        expected = _expected(card)
    except ModelNotInstalledError:
        return False
    return all((card_dir(card.name) / name).is_file() for name in expected)


@cache
def _verified(name: str, home: str) -> Path:
    card = get_card(name)
    folder = card_dir(name)
    for dest, sha in _expected(card).items():
        path = folder / dest
        if not path.is_file():
            raise ModelNotInstalledError(name)
        actual = sha256_file(path)
        if actual != sha:
            raise ChecksumError(
                f"{path}: sha256 {actual} differs from the expected {sha}; "
                f"run `sensorium models install --force {name}`"
            )
    return folder


def model_path(name: str) -> Path:
    """The folder of an installed model, its files verified against their hashes."""
    return _verified(name, str(config.home()))
