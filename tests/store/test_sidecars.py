"""XMP sidecars (``IMG_1.jpg.xmp``, ``IMG_1.xmp``) as ingest and watch see them, on a real photo
with the real models: read with their photo, never an item of their own; a sidecar edited,
added or removed alone has its photo read again (its keywords follow), by an ingest and by a
watcher; a photo touched but unchanged is still not encoded again."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.media.cameras import xmp

from sensorium.collection import Collection
from sensorium.engine import Engine
from sensorium.media.metadata import Sidecars, is_sidecar
from sensorium.store.watch import WatchOptions


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _keywords(coll: Collection, photo: Path) -> list[str]:
    item = coll.show(str(photo.resolve()))
    assert item is not None, photo
    return item.keywords


def _bump(path: Path, seconds: float) -> None:
    """An edit's mtime, later than any before it (file systems stamp to the tick)."""
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + seconds))


def test_sidecars_and_what_they_describe(tmp_path: Path) -> None:
    for name in ("IMG_1.jpg", "IMG_1.jpg.xmp", "DSC_2.NEF", "DSC_2.jpg", "DSC_2.XMP", "x.txt"):
        (tmp_path / name).write_bytes(b"-")
    sides = Sidecars()
    assert sides.of(tmp_path / "IMG_1.jpg") == [tmp_path / "IMG_1.jpg.xmp"]
    assert sides.of(tmp_path / "DSC_2.NEF") == [tmp_path / "DSC_2.XMP"]
    assert sides.of(tmp_path / "x.txt") == []
    assert sides.described(tmp_path / "IMG_1.jpg.xmp") == [tmp_path / "IMG_1.jpg"]
    assert sides.described(tmp_path / "DSC_2.XMP") == [
        tmp_path / "DSC_2.NEF",
        tmp_path / "DSC_2.jpg",
    ]
    assert sides.described(tmp_path / "gone.xmp") == []
    assert is_sidecar(Path("a.XMP")) and not is_sidecar(Path("xmp.jpg"))


def _tagged(tmp_path: Path, engine: Engine,
            photos: dict[str, Path]) -> tuple[Collection, Path, Path, Path]:  # fmt: skip
    """A new collection, and a folder of one photo with a darktable sidecar that tags it
    "sailing": (collection, folder, photo, sidecar)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = folder / "IMG_1.jpg"
    shutil.copy(photos["coffee"], photo)
    side = folder / "IMG_1.jpg.xmp"
    side.write_bytes(xmp("Morning", "", ["sailing"]))
    return Collection(tmp_path / "db", engine), folder, photo, side


def test_a_sidecar_edited_added_or_removed_alone(tmp_path: Path, engine: Engine,
                                                 photos: dict[str, Path]) -> None:  # fmt: skip
    coll, folder, photo, side = _tagged(tmp_path, engine, photos)

    report = coll.ingest([folder])
    assert (report.added, report.failed) == (1, [])  # the photo; the sidecar is no item
    assert coll.stats()["items"] == 1 and "sailing" in _keywords(coll, photo)
    assert [h.item.path for h in coll.search("keyword:sailing")] == [str(photo.resolve())]

    side.write_bytes(xmp("Morning", "", ["regatta"]))  # edited alone
    _bump(side, 5)
    report = coll.ingest([folder])
    assert (report.updated, report.unchanged) == (1, 0), report
    assert "regatta" in _keywords(coll, photo) and "sailing" not in _keywords(coll, photo)
    assert coll.ingest([folder]).unchanged == 1  # and then it holds

    side.unlink()  # removed: what it said goes with it
    report = coll.ingest([folder])
    assert report.updated == 1 and "regatta" not in _keywords(coll, photo)

    (folder / "IMG_1.xmp").write_bytes(xmp("", "", ["harbour"]))  # added, Lightroom's name
    _bump(folder / "IMG_1.xmp", 10)
    assert coll.ingest([folder / "IMG_1.xmp"]).updated == 1  # named alone: its photo is read
    assert "harbour" in _keywords(coll, photo) and coll.stats()["items"] == 1


def test_a_photo_touched_without_a_sidecar_is_not_encoded_again(
    tmp_path: Path, engine: Engine, photos: dict[str, Path]
) -> None:
    photo = tmp_path / "coffee.jpg"
    shutil.copy(photos["coffee"], photo)
    coll = Collection(tmp_path / "db", engine)
    coll.ingest([photo])
    _bump(photo, 5)
    report = coll.ingest([photo])
    assert (report.updated, report.unchanged) == (0, 1)


def _until(check: Callable[[], bool], seconds: float = 60.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_a_watched_sidecar_edited_or_removed(tmp_path: Path, engine: Engine,
                                             photos: dict[str, Path]) -> None:  # fmt: skip
    coll, folder, photo, side = _tagged(tmp_path, engine, photos)
    watcher = coll.watcher([folder], WatchOptions(settle=0.3)).start()
    try:
        assert _until(watcher.watching.is_set)
        assert "sailing" in _keywords(coll, photo)
        side.write_bytes(xmp("Morning", "", ["regatta"]))
        _bump(side, 5)
        assert _until(lambda: "regatta" in _keywords(coll, photo)), _keywords(coll, photo)
        side.unlink()
        assert _until(lambda: "regatta" not in _keywords(coll, photo)), _keywords(coll, photo)
        assert coll.stats()["items"] == 1 and coll.stats()["failed"] == 0
    finally:
        watcher.stop(timeout=60)
