"""A Python client generated from the served schema (openapi-python-client) works against the
real server: a search, an upload, and errors parsed as the one error model."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

pytest.importorskip("openapi_python_client")

PACKAGE = "sensorium_api_client"


@pytest.fixture(scope="module")
def api(live_token_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated into a temporary folder and imported from there; from
    the schema of a service with a token, which declares the bearer scheme and its 401."""
    folder = tmp_path_factory.mktemp("client")
    (folder / "openapi.json").write_bytes(httpx.get(f"{live_token_url}/openapi.json").content)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", "openapi.json",
         "--output-path", PACKAGE, "--meta", "none"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0 and (folder / PACKAGE / "client.py").is_file(), (
        run.stdout + run.stderr
    )
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_generated_client_searches(api: ModuleType, live_url: str) -> None:
    from sensorium_api_client.api.default import item, search_get  # type: ignore[import-not-found]
    from sensorium_api_client.models import ItemDetails, SearchGetType, SearchResults  # type: ignore[import-not-found]

    with api.Client(base_url=live_url, raise_on_unexpected_status=True) as client:
        found = search_get.sync(client=client, q="a cat", k=3, type_=SearchGetType.IMAGE)
        assert isinstance(found, SearchResults)
        details = item.sync(client=client, item_id=found.results[0].id)
    assert Path(found.results[0].path).name == "chelsea.jpg"
    assert isinstance(details, ItemDetails) and details.kind.value == "image"


def test_generated_client_uploads(api: ModuleType, live_url: str, crow_ogg: Path) -> None:
    from sensorium_api_client.api.default import search_post
    from sensorium_api_client.models import BodySearchPost, SearchResults
    from sensorium_api_client.types import File  # type: ignore[import-not-found]

    client = api.Client(base_url=live_url, raise_on_unexpected_status=True, timeout=120)
    with client, crow_ogg.open("rb") as f:
        sound = File(payload=f, file_name="crow.ogg", mime_type="audio/ogg")
        found = search_post.sync(client=client, body=BodySearchPost(audio=sound, k=3))
    assert isinstance(found, SearchResults) and Path(found.results[0].path).name == "crow.ogg"


def test_generated_client_reads_errors(api: ModuleType, live_url: str,
                                       live_token_url: str) -> None:  # fmt: skip
    from sensorium_api_client.api.default import item, search_get
    from sensorium_api_client.models import Error, ErrorError  # type: ignore[import-not-found]

    with api.Client(base_url=live_url, raise_on_unexpected_status=True) as client:
        missing = item.sync_detailed(client=client, item_id="nope")
        invalid = search_get.sync(client=client, q="cat", k=101)
    assert missing.status_code == 404 and isinstance(missing.parsed, Error)
    assert missing.parsed.error is ErrorError.MISSING and "nope" in missing.parsed.detail
    assert isinstance(invalid, Error) and invalid.error is ErrorError.INVALID
    assert invalid.field == "k"
    # with a token: refused without it, answered with it
    with api.Client(base_url=live_token_url) as client:
        refused = search_get.sync(client=client, q="cat")
    assert isinstance(refused, Error) and refused.error is ErrorError.UNAUTHORIZED
    with api.AuthenticatedClient(base_url=live_token_url, token="s3cret") as authed:
        assert search_get.sync_detailed(client=authed, q="cat").status_code == 200
