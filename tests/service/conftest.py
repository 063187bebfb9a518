"""A real small collection (photos, sounds, speech, a video) ingested once, served by the
app in-process (TestClient) and by uvicorn on a free loopback port (the browser, contract and
generated-client tests)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from sensorium.collection import Collection
from sensorium.service import ServiceConfig, create_app

MAX_UPLOAD_MB = 2


@pytest.fixture(scope="session")
def media_root(
    tmp_path_factory: pytest.TempPathFactory, photos: dict[str, Path], crow_ogg: Path,
    hello_wav: Path, stamp_png: Path, animal_video: Any,
) -> Path:  # fmt: skip
    root = tmp_path_factory.mktemp("root")
    for p in [*photos.values(), crow_ogg, hello_wav, stamp_png, animal_video.path]:
        shutil.copy(p, root / p.name)
    return root


@pytest.fixture(scope="session")
def collection(tmp_path_factory: pytest.TempPathFactory, media_root: Path) -> Collection:
    coll = Collection(tmp_path_factory.mktemp("db"))
    report = coll.ingest([media_root])
    assert not report.failed, report.failed
    return coll


def people_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app over a new collection of the named people's photos, people on: each module
    that names, merges or splits gets its own."""
    from sensorium.eval.datasets import named_faces

    root = tmp_path_factory.mktemp("named")
    for path in named_faces():
        shutil.copy(path, root / path.name)
    coll = Collection(tmp_path_factory.mktemp("db"))
    coll.set_people(True)
    assert not coll.ingest([root]).failed
    return create_app(ServiceConfig(coll.folder, (root,), 2, None, warm=False), coll)


def _app(collection: Collection, media_root: Path, token: str | None = None) -> Any:
    config = ServiceConfig(collection.folder, (media_root,), MAX_UPLOAD_MB, token)
    return create_app(config, collection)


@pytest.fixture(scope="session")
def client(collection: Collection, media_root: Path) -> Iterator[TestClient]:
    with TestClient(_app(collection, media_root), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def token_client(collection: Collection, media_root: Path) -> Iterator[TestClient]:
    app = _app(collection, media_root, token="s3cret")
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _live(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on 127.0.0.1, in a thread, stopped at the end."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the service did not start")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_url(collection: Collection, media_root: Path) -> Iterator[str]:
    """The service under uvicorn on 127.0.0.1 (the browser, contract and client tests)."""
    with _live(_app(collection, media_root)) as url:
        yield url


@pytest.fixture(scope="session")
def live_token_url(collection: Collection) -> Iterator[str]:
    """As ``live_url`` with ``--token s3cret``, and no roots: it shares the collection, and
    only one service writes to it."""
    config = ServiceConfig(collection.folder, (), MAX_UPLOAD_MB, "s3cret")
    with _live(create_app(config, collection)) as url:
        yield url
