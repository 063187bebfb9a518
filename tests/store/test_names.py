"""File names as they come: a name that is not UTF-8 (an old archive's Latin-1) is stored,
searchable and shown escaped, as git and rsync keep such names; every refused file counts in
the collection's failures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sensorium.collection import Collection
from sensorium.media.names import fs_path, path_text
from sensorium.store.base import Filter

LATIN1 = b"caf\xe9 cr\xe8me.txt"  # "café crème" in Latin-1: not UTF-8
SHOWN = "caf\\xe9 cr\\xe8me.txt"  # as stored and shown


@pytest.mark.parametrize(
    "name",
    [b"caf\xe9.jpg", b"ok.jpg", "é/ü.jpg".encode(), b"lit\\xe9.jpg", b"\xff\\x41\xe9", b"a\\b"],
)
def test_path_text_is_one_to_one(name: bytes) -> None:
    path = os.fsdecode(b"/photos/" + name)
    text = path_text(path)
    text.encode("utf-8")  # valid text: storable, printable, JSON
    assert os.fsencode(fs_path(text)) == b"/photos/" + name
    valid = name.decode("utf-8", "replace") == name.decode("utf-8", "ignore")
    if valid and b"\\x" not in name:
        assert text == path  # every valid name unchanged


@pytest.fixture()
def archive(tmp_path: Path, photos: dict[str, Path]) -> Path:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / os.fsdecode(LATIN1)).write_text("an espresso with cream on the terrace")
    shutil.copy(photos["chelsea"], folder / os.fsdecode(b"ch\xe2t.jpg"))
    (folder / "note.txt").write_text("a cat asleep on the sofa")
    os.mkfifo(folder / "pipe.wav")
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    return folder


def test_stored_searchable_and_shown_escaped(tmp_path: Path, archive: Path) -> None:
    coll = Collection(tmp_path / "db")
    report = coll.ingest([archive])
    assert report.added == 3 and len(report.failed) == 3  # pipe, link loop, broken PNG
    shown = f"{archive}/{SHOWN}"
    hits = coll.search("espresso with cream", k=1)
    assert hits[0].item.path == shown and json.dumps(hits[0].to_json())
    assert hits[0].explanation.keyword.to_dict() == {"word": "espresso", "in": "typed"}
    # by the name as the file system gives it, and as it is shown
    real = os.fsdecode(bytes(archive) + b"/" + LATIN1)
    assert coll.item(real).path == shown and coll.item(shown).path == shown
    assert fs_path(shown).read_text().startswith("an espresso")
    photo = coll.search("a cat", k=5, filters=Filter(kind="image"))[0].item
    assert photo.path == f"{archive}/ch\\xe2t.jpg"
    from sensorium.service.thumbs import thumbnail

    assert thumbnail(photo)[1] == "image/jpeg"  # opened through its real name
    # a second run: nothing new; stats count every refused file, the pipe and loop included
    again = coll.ingest([archive], sync=True)
    assert (again.added, again.unchanged, again.removed) == (0, 3, 0)
    stats = coll.stats()
    failed = {f["path"]: f["error"] for f in stats["failures"]}
    assert stats["failed"] == 3 and len(failed) == 3
    assert "a named pipe" in failed[str(archive / "pipe.wav")]
    assert "loop" in failed[str(archive / "loop.jpg")]
    # gone: the escaped name is forgotten by sync like any other
    os.remove(real)
    assert coll.ingest([archive], sync=True).removed == 1 and coll.show(shown) is None


def test_cli_shows_the_escaped_name_and_counts_refusals(tmp_path: Path, archive: Path) -> None:
    db = tmp_path / "db"
    run = lambda *a: subprocess.run([sys.executable, "-m", "sensorium", *map(str, a)],  # noqa: E731
                                    capture_output=True, text=True, timeout=600)  # fmt: skip
    ingest = run("ingest", archive, "--db", db)
    assert ingest.returncode == 1 and "Traceback" not in ingest.stderr
    assert "rename" not in ingest.stderr and "failed 3" in ingest.stdout
    found = run("search", "espresso", "--db", db, "-k", "1", "--json")
    assert json.loads(found.stdout.splitlines()[0])["path"] == f"{archive}/{SHOWN}"
    stats = run("stats", "--db", db)
    assert "3 failed" in stats.stdout and "pipe.wav" in stats.stdout
