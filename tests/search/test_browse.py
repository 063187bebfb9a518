"""Filters without words (``type:image``, ``camera:``, a folder): every file that passes them,
by date, paged with a cursor that neither repeats nor skips while files are added; from the
library, the CLI and the API. Real photos with the EXIF dates a camera writes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from sensorium.collection import Collection
from sensorium.errors import UsageError
from sensorium.search import Query

DATES = {"astronaut": "2019:05:01 10:00:00", "chelsea": "2023:07:14 09:30:00",
         "coffee": "2021:01:02 08:15:00", "rocket": None}  # fmt: skip
NEWEST_TAKEN = ["chelsea", "coffee", "astronaut", "rocket"]  # rocket has no date: last


def _dated(photo: Path, out: Path, when: str | None) -> Path:
    with Image.open(photo) as im:
        exif = im.getexif()
        if when:
            exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal, in the Exif IFD
            exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 80D"  # Make, Model
        im.save(out, exif=exif)
    return out


@pytest.fixture(scope="module")
def coll(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, Path]) -> Collection:
    lib = tmp_path_factory.mktemp("lib")
    for name, when in DATES.items():
        _dated(photos[name], lib / f"{name}.jpg", when)
    (lib / "note.txt").write_text("Quarterly budget review on Tuesday.")
    c = Collection(tmp_path_factory.mktemp("db"))
    assert not c.ingest([lib]).failed
    return c


def _names(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(h.item.path).stem for h in page.hits]


def test_filters_only_by_date_taken_with_a_cursor(coll: Collection, photos: dict[str, Path],
                                                   tmp_path: Path) -> None:  # fmt: skip
    first = coll.page("type:image", k=2, sort="taken")
    assert (_names(first), first.total, first.weak) == (NEWEST_TAKEN[:2], 4, 0)
    assert first.hits[0].explanation.labels  # what the file is, as a reason
    late = Path(coll.page("type:text").hits[0].item.path).parent  # the photos' folder
    _dated(photos["coffee"], late / "later.jpg", "2024:01:01 00:00:00")  # newest of all
    coll.ingest([late / "later.jpg"])
    second = coll.page("type:image", k=2, sort="taken", cursor=first.cursor)
    assert (_names(second), second.cursor) == (NEWEST_TAKEN[2:], None)  # pinned: no repeat
    fresh = coll.page("type:image", k=10, sort="taken")  # a new query sees the new file
    assert _names(fresh) == ["later", *NEWEST_TAKEN] and fresh.total == 5
    added = coll.page("type:image", k=1, sort="added")
    assert _names(added) == ["later"]  # newest added first
    (late / "later.jpg").unlink()
    coll.ingest([late], sync=True)


def test_other_filters_and_what_is_refused(coll: Collection) -> None:
    assert _names(coll.page("type:text")) == ["note"]
    canon = coll.page("camera:canon", sort="taken")
    assert _names(canon) == NEWEST_TAKEN[:3]  # the undated rocket has no camera either
    assert _names(coll.page("type:image after:2020", sort="taken")) == NEWEST_TAKEN[:2]
    assert coll.page("type:image type:video").total == 0  # impossible: nothing
    with pytest.raises(UsageError, match="or a filter"):
        Query()


def test_filters_only_from_the_cli(coll: Collection) -> None:
    run = subprocess.run([sys.executable, "-m", "sensorium", "search", "--db", str(coll.folder),
                          "--type", "image", "--sort", "taken", "-k", "3", "--json"],
                         capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]  # one hit a line
    assert [Path(r["path"]).stem for r in results] == NEWEST_TAKEN[:3]


def test_filters_only_over_http(coll: Collection) -> None:
    from fastapi.testclient import TestClient

    from sensorium.service import ServiceConfig, create_app

    app = create_app(ServiceConfig(coll.folder, warm=False), coll)
    with TestClient(app, raise_server_exceptions=False) as client:
        t0 = time.perf_counter()
        r = client.get("/api/search", params={"q": "type:image", "sort": "taken", "k": 2})
        assert r.status_code == 200, r.text
        body = r.json()
        assert [Path(h["path"]).stem for h in body["results"]] == NEWEST_TAKEN[:2]
        assert body["total"] == 4 and body["cursor"] and time.perf_counter() - t0 < 60
        nxt = client.get("/api/search", params={"q": "type:image", "sort": "taken", "k": 2,
                                                "cursor": body["cursor"]}).json()  # fmt: skip
        assert [Path(h["path"]).stem for h in nxt["results"]] == NEWEST_TAKEN[2:]
        # the schema admits ``not`` beside filters alone: nothing to leave out of, a browse
        r = client.get("/api/search", params={"q": "type:image", "not": "cat", "sort": "taken"})
        assert r.status_code == 200 and r.json()["total"] == 4, r.text
        # the form needs q, an image, a sound or an item (as its schema says): not filters alone
        r = client.post("/api/search", data={"path": "*.jpg"})
        assert r.status_code == 400 and r.json()["error"] == "usage", r.text
