"""Paging, order and the weak cut, on real Tux Paint stamps (DATA.md): a page's total,
offsets and sorts; a cursor's pages neither repeat nor skip while files are added; a query
whose answer is not there says so."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sensorium.collection import Collection
from sensorium.errors import UsageError
from sensorium.eval.datasets import TUXPAINT

FIRST = ["birds", "marsupials", "insects"]  # ingested first
LATER = ["mammals", "fish"]  # added between page requests


def _copy(folder: Path, groups: list[str]) -> Path:
    for group in groups:
        for png in sorted((TUXPAINT / "animals" / group).glob("*.png")):
            shutil.copy(png, folder / png.name)
    return folder


@pytest.fixture(scope="module")
def coll(tmp_path_factory: pytest.TempPathFactory) -> Collection:
    lib = _copy(tmp_path_factory.mktemp("first"), FIRST)
    c = Collection(tmp_path_factory.mktemp("db"))
    assert not c.ingest([lib]).failed
    return c


def _ids(pages: list) -> list[str]:  # type: ignore[type-arg]
    return [h.item.id for p in pages for h in p.hits]


def test_offsets_walk_the_ranking(coll: Collection) -> None:
    whole = coll.page("a bird", k=5)
    assert whole.total == coll.store.files() and whole.offset == 0 and len(whole.hits) == 5
    pages = [coll.page("a bird", k=5, offset=o) for o in range(0, whole.total, 5)]
    ids = _ids(pages)
    assert len(ids) == whole.total == len(set(ids))  # each result once
    assert [p.offset for p in pages] == list(range(0, whole.total, 5))
    assert pages[-1].cursor is None and all(p.cursor for p in pages[:-1])
    first = coll.search("a bird", k=5)  # the first page is what search gives
    assert [h.item.id for h in first] == ids[:5]
    assert coll.page("a bird", k=5, offset=whole.total).hits == []


@pytest.mark.parametrize(("sort", "column"), [("added", "ingested_at"), ("taken", "taken")])
def test_sorts(coll: Collection, sort: str, column: str) -> None:
    page = coll.page("an animal", k=100, sort=sort)
    relevance = coll.page("an animal", k=100)
    assert page.sort == sort and page.total == relevance.total
    assert {h.item.id for h in page.hits} == {h.item.id for h in relevance.hits}
    strong = [h for h in page.hits if not h.weak]
    weak = [h for h in page.hits if h.weak]
    assert page.hits == strong + weak  # good matches first, newest first within
    for group in (strong, weak):
        dates = [getattr(h.item, column) for h in group]
        assert dates == sorted(dates, reverse=True)
    with pytest.raises(UsageError, match="sort must be one of"):
        coll.page("an animal", sort="size")


def test_cursor_pins_the_ranking_while_files_are_added(coll: Collection, tmp_path: Path) -> None:
    """Page 1, then more stamps are ingested (as a watched folder would), then the rest by
    cursor: every result of the ranking page 1 belonged to, once, in order."""
    query = "a furry mammal"
    before = coll.page(query, k=100)  # the whole ranking as it stood
    page = coll.page(query, k=7)
    pages = [page]
    coll.ingest([_copy(tmp_path, LATER)])
    fresh = coll.page(query, k=7)
    added = {str(p) for p in tmp_path.glob("*.png")}
    # the new stamps do rank: offsets alone would repeat or skip results now
    assert any(h.item.path in added for h in fresh.hits)
    while page.cursor:
        page = coll.page(query, k=7, cursor=page.cursor)
        pages.append(page)
    ids = _ids(pages)
    assert len(ids) == len(set(ids)) == before.total
    assert ids == [h.item.id for h in before.hits]
    assert not any(h.item.path in added for p in pages for h in p.hits)


def test_pages_while_a_watch_ingests(tmp_path: Path) -> None:
    """A watched folder takes new stamps between pages, in the watcher's thread, and the
    served index sees each batch: the cursor's pages still hold page 1's ranking, each
    result once; a new search sees the new stamps."""
    import time

    from sensorium.store.watch import WatchOptions

    (tmp_path / "watched").mkdir()
    folder = _copy(tmp_path / "watched", FIRST)
    c = Collection(tmp_path / "db").serve()  # the served index, as the service searches
    watcher = c.watcher([folder], WatchOptions(settle=0.2)).start()
    try:
        deadline = time.monotonic() + 120
        while not watcher.watching.is_set():
            assert time.monotonic() < deadline, "the watcher did not catch up"
            time.sleep(0.1)
        query = "a furry mammal"
        before = c.page(query, k=100)
        pages = [c.page(query, k=7)]
        _copy(folder, LATER)  # dropped into the watched folder
        added = {str(p.resolve()) for p in folder.glob("*.png")} - {
            h.item.path for h in before.hits}  # fmt: skip
        while not any(h.item.path in added for h in c.page(query, k=7).hits):
            assert time.monotonic() < deadline + 120, "the new stamps were not ingested"
            time.sleep(0.2)
        while pages[-1].cursor:
            pages.append(c.page(query, k=7, cursor=pages[-1].cursor))
        ids = _ids(pages)
        assert len(ids) == len(set(ids)) == before.total  # none twice, none skipped
        assert ids == [h.item.id for h in before.hits]
    finally:
        watcher.stop(timeout=60)


def test_a_cursor_unknown_or_malformed(coll: Collection) -> None:
    page = coll.page("a bird", k=5, cursor="AAAAAAAAAAAAAAAA.5")  # unknown: ranked again
    assert page.offset == 5 and page.hits
    with pytest.raises(UsageError, match="cursor"):
        coll.page("a bird", cursor="not a cursor")


def test_weak_cut(coll: Collection) -> None:
    """A query whose answer is there keeps it above the cut; one whose answer is not gets
    only weak results."""
    there = coll.page("kangaroo", k=10)
    assert not there.hits[0].weak and "kangaroo" in there.hits[0].item.path
    assert there.weak < there.total
    absent = coll.page("stethoscope", k=10)
    assert absent.total > 0 and absent.weak == absent.total
    assert all(h.weak and h.to_json()["weak"] for h in absent.hits)


def test_syntax_through_the_collection(coll: Collection) -> None:
    page = coll.page('"kangaroo" type:image -bird', k=10)
    assert page.hits and all("kangaroo" in h.item.path for h in page.hits)
    assert coll.page("kangaroo type:audio", k=10).total == 0
    assert coll.page("kangaroo type:image type:audio", k=10).total == 0  # cannot hold


def test_cli_folds_weak_results(coll: Collection) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "sensorium", "search", *args, "--db", str(coll.folder)]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    p = run("stethoscope", "-k", "5")
    assert p.returncode == 0, p.stderr
    assert "no good match" in p.stdout and "5 weak results hidden, --all to show" in p.stdout
    shown = run("stethoscope", "-k", "5", "--all", "--sort", "added", "--offset", "5")
    assert shown.stdout.count(".png") == 5 and "results 6–10 of" in shown.stdout
    bad = run("type:banana x")
    assert bad.returncode == 2 and "type:banana" in bad.stderr and "Traceback" not in bad.stderr


def test_a_cursor_belongs_to_its_collection(coll: Collection) -> None:
    """Pins are kept by the collection that made them (its ``search_state``), not by the
    process: another collection over the same folder ranks the query again and goes on from
    the cursor's position, as for a cursor it no longer knows."""
    first = coll.page("a bird", k=5)
    assert first.cursor is not None
    pin = first.cursor.split(".")[0]
    other = Collection(coll.folder)
    assert other.search_state is not coll.search_state
    again = other.page("a bird", k=5, cursor=first.cursor)
    assert again.offset == 5 and [h.item.id for h in again.hits] == [
        h.item.id for h in coll.page("a bird", k=5, offset=5).hits
    ]
    assert other.search_state.pinned(pin, None) is None  # its state never held that pin
