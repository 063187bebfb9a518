"""What files already say, searched: keywords, titles and descriptions from XMP and IPTC and
the names of the folders a file sits in go into the keyword index, and ``keyword:`` picks
the files that carry one; the store's SQL and the serving index's mask agree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import skimage
from PIL import Image
from tests.media.cameras import iptc_block, jpeg_with_app13, write, xmp

from sensorium.collection import Collection
from sensorium.store.base import Filter


def test_keyword_sql_and_mask_agree() -> None:
    rows = [["Beach", "Holiday 2021"], ["beach hut"], [], None, ['O\'Brien "Ltd"', "100%_x"],
            ["Zürich"], ["Brittany"]]  # fmt: skip
    stored = [None if r is None else json.dumps(r, ensure_ascii=False) for r in rows]
    cols = {"kind": pa.array(["image"] * len(rows)), "keywords": pa.array(stored, pa.string())}
    cases = {
        "beach": [0],  # a whole keyword, any case: not "beach hut"
        "HOLIDAY  2021": [0],
        "brit": [],  # not a part of one
        'O\'Brien "Ltd"': [4],
        "100%_x": [4],
        "zürich": [5],
    }
    for keyword, want in cases.items():
        f = Filter(keyword=keyword)
        assert f and f.mask(cols).nonzero()[0].tolist() == want, keyword
        sql = f.sql() or ""
        assert sql.startswith("lower(keywords) LIKE '%") and sql.endswith("%' ESCAPE '\\'")
    assert "'%\"o''brien \\\\\"ltd\\\\\"\"%'" in (Filter(keyword='O\'Brien "Ltd"').sql() or "")


@pytest.fixture()
def library(tmp_path: Path, photos: dict[str, Path]) -> Path:
    """A photo library as people keep one: folders by trip, keywords written by their tools."""
    root = tmp_path / "Pictures"
    trip = root / "Holiday 2021" / "Brittany"
    trip.mkdir(parents=True)
    (root / "Work").mkdir()
    packet = xmp("Harbour at dawn", "Fishing boats moored in the old port", ["boats", "sea"])
    Image.open(photos["coffee"]).save(trip / "IMG_0001.jpg", xmp=packet)
    iptc = iptc_block([(2, 25, b"market"), (2, 25, b"sea"), (2, 120, b"Cider stall at the market")])
    jpeg_with_app13(trip / "IMG_0002.jpg", iptc)
    shutil.copy(photos["chelsea"], root / "Holiday 2021" / "cat.jpg")
    write("heic", root / "Work", "rocket", skimage.data.rocket(), 6)
    (root / "Work" / "minutes.txt").write_text("Minutes of the budget meeting.")
    return root


def test_keywords_captions_and_folders(tmp_path: Path, library: Path) -> None:
    coll = Collection(tmp_path / "db")
    assert coll.ingest([library]).added == 5
    one = coll.item(str(library / "Holiday 2021" / "Brittany" / "IMG_0001.jpg"))
    assert one.keywords == ["boats", "sea", "Holiday 2021", "Brittany"]
    assert one.caption == "Harbour at dawn\nFishing boats moored in the old port"
    two = coll.item(str(library / "Holiday 2021" / "Brittany" / "IMG_0002.jpg"))
    assert two.keywords == ["market", "sea", "Holiday 2021", "Brittany"]
    assert coll.item(str(library / "Work" / "minutes.txt")).keywords == ["Work"]

    def paths(query: str, keyword: str | None, served: bool = False) -> set[str]:
        c = coll.serve() if served else coll
        hits = c.search(query, k=10, filters=Filter(keyword=keyword) if keyword else None)
        return {Path(h.item.path).name for h in hits}

    for served in (False, True):  # the store's SQL, then the serving index's mask
        assert paths("photo", "sea", served) == {"IMG_0001.jpg", "IMG_0002.jpg"}
        assert paths("anything", "holiday 2021", served) == {"IMG_0001.jpg", "IMG_0002.jpg",
                                                             "cat.jpg"}  # fmt: skip
        assert paths("a rocket", "work", served) == {"rocket.heic", "minutes.txt"}
        assert paths("photo", "holiday", served) == set()  # a keyword is matched whole
    # a caption's and a keyword's words are found by keyword search and named as the match
    first = coll.search("fishing boats", k=1)[0]
    assert first.item.path.endswith("IMG_0001.jpg")
    assert first.explanation.keyword.where == "caption"
    stall = coll.search("cider stall", k=1)[0]
    assert stall.item.path.endswith("IMG_0002.jpg")
    market = coll.search("market", k=1)[0]
    assert market.item.path.endswith("IMG_0002.jpg") and market.explanation.keyword.where in (
        "caption", "keywords")  # fmt: skip


def test_cli_keyword_option(tmp_path: Path, library: Path) -> None:
    db = tmp_path / "db"
    run = lambda *a: subprocess.run([sys.executable, "-m", "sensorium", *map(str, a)],  # noqa: E731
                                    capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run("ingest", library, "--db", db).returncode == 0
    found = run("search", "boats", "--keyword", "Brittany", "--db", db, "--json")
    assert found.returncode == 0, found.stderr
    names = {Path(json.loads(line)["path"]).name for line in found.stdout.splitlines()}
    assert names == {"IMG_0001.jpg", "IMG_0002.jpg"}
