"""``serve --watch``: a folder kept in step while serving; the served index sees its new
photos at the next search, and a removed one leaves the results."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from sensorium.collection import Collection
from sensorium.errors import UsageError
from sensorium.service import ServiceConfig, create_app

WAIT = 60.0


def _until(what: str, check: Callable[[], bool], seconds: float = WAIT) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"still not {what} after {seconds:.0f} s")


def _paths(client: TestClient, q: str) -> list[str]:
    r = client.get("/api/search", params={"q": q, "k": 5})
    assert r.status_code == 200, r.text
    return [Path(hit["path"]).name for hit in r.json()["results"]]


def test_serve_watch_keeps_the_served_index_in_step(
    tmp_path: Path, photos: dict[str, Path]
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(photos["astronaut"], folder / "astronaut.jpg")
    coll = Collection(tmp_path / "db")
    config = ServiceConfig(coll.folder, watch=(folder,), warm=True)
    app = create_app(config, coll)
    with TestClient(app, raise_server_exceptions=False) as client:
        watcher = app.state.service.watcher
        assert watcher is not None and watcher.running
        _until("caught up", watcher.watching.is_set)
        assert coll.index is not None  # searches are served by the in-memory index
        assert _paths(client, "an astronaut") == ["astronaut.jpg"]
        shutil.copy(photos["coffee"], folder / "coffee.jpg")
        _until("found", lambda: _paths(client, "a cup of coffee")[:1] == ["coffee.jpg"])
        (folder / "astronaut.jpg").unlink()
        _until("gone", lambda: "astronaut.jpg" not in _paths(client, "an astronaut"))
        watch = client.get("/api/stats").json()["watch"]  # where the watcher stands
        assert watch["observer"] == "inotify" and watch["watching"] and watch["error"] is None
        assert watch["folders"] == [str(folder.resolve())] and watch["batches"] >= 3
        assert (watch["added"], watch["removed"], watch["failed"]) == (2, 1, 0), watch
        assert watch["pending"] == 0 and watch["last_batch"] > 0
    assert not watcher.running  # stopped with the service


def test_stats_without_a_watch(client: TestClient) -> None:
    assert client.get("/api/stats").json()["watch"] is None


def test_serve_watch_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--watch .*: not a folder"):
        ServiceConfig(watch=(tmp_path / "missing",))
