"""A collection on object storage: ingest, search and stats against a local S3-compatible
server (moto's server mode, spoken to over HTTP like any S3), compared with a folder."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sensorium import config
from sensorium.engine import default_engine
from sensorium.perceive.inputs import expand_paths
from sensorium.search import Query, search
from sensorium.store import LanceStore, ingest
from sensorium.store.base import Filter

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

BUCKET = "sensorium-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """``s3://BUCKET`` on a moto server at 127.0.0.1, with the AWS variables pointing there."""
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.delenv("AWS_ENDPOINT_URL_S3", raising=False)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield f"s3://{BUCKET}"
    server.stop()


def _store(uri: str) -> LanceStore:
    return LanceStore(uri, config.storage_options(uri))


def test_storage_options_come_from_the_aws_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert config.storage_options("s3://b/p") == {
        "aws_endpoint": "http://minio:9000",
        "allow_http": "true",
    }
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.example.com")
    assert config.storage_options("s3://b/p") == {"aws_endpoint": "https://s3.example.com"}
    assert config.storage_options("/data/collection") is None


def test_a_collection_on_s3_gives_the_results_of_a_folder(
    s3: str, media_dir: Path, tmp_path: Path, same_items: Callable[..., None]
) -> None:
    space = default_engine().space
    uri = f"{s3}/collections/media"
    remote, local = _store(uri), LanceStore(tmp_path / "db")
    files = expand_paths([media_dir])
    got = ingest(remote, space, files, [media_dir]).to_json()
    want = ingest(local, space, files, [media_dir]).to_json()
    got.pop("seconds"), want.pop("seconds")
    assert got == want and len(want["failed"]) == 1  # type: ignore[arg-type]
    same_items(remote, local, atol=1e-6)  # the same process: the same numbers

    for query in (
        Query(text="a cat"),
        Query(text="someone says hello"),
        Query(text="a rocket", filters=Filter(kind="image")),
    ):
        hits = [(h.item.path, round(h.score, 5)) for h in search(remote, space, query, 3)]
        assert hits == [(h.item.path, round(h.score, 5)) for h in search(local, space, query, 3)]

    again = _store(uri)  # opened afresh: everything lives in the bucket
    assert (again.files(), again.count(), again.kinds()) == (local.files(), local.count(),
                                                              local.kinds())  # fmt: skip
    assert [f.path for f in again.failures()] == [f.path for f in local.failures()]
    info = again.info()
    assert info["folder"] == uri and info["bytes"] > 0
    assert not Path("s3:").exists()  # nothing was written to a local folder named after it
    report = ingest(again, space, files, [media_dir])
    assert (report.added, report.updated, report.unchanged) == (0, 0, 7)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert any(k.startswith("collections/media/items.lance/") for k in keys)


def test_the_command_line_on_s3_and_on_ray(s3: str, media_dir: Path) -> None:
    """As a user types it: `ingest --db s3://... --executor ray`, then `stats` and `search`
    against the bucket (the AWS variables point at the local server)."""
    import json
    import os
    import subprocess
    import sys

    uri = f"{s3}/collections/cli"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "sensorium", *args, "--db", uri]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=600, env=os.environ.copy()
        )

    p = run("ingest", str(media_dir), "--executor", "ray", "--json")
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr  # the corrupt PNG
    report = json.loads(p.stdout)
    assert report["added"] == 7 and [f["path"] for f in report["failed"]] == [
        str(media_dir / "broken.png")
    ]
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["items"] == 7 and stats["failed"] == 1
    hits = [
        json.loads(line) for line in run("search", "a cat", "-k", "1", "--json").stdout.splitlines()
    ]
    assert hits[0]["path"].endswith("chelsea.jpg")
