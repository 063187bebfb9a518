"""Bad input and hostile requests: paths out of the roots, oversize, corrupt and unsupported
uploads, the bearer token, and never a traceback in a response."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sensorium.service.routes import router

MAX_UPLOAD_MB = 2  # as the service fixtures set it (conftest.py)


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc", "../../etc/passwd", "sub/../../x", ""])
def test_ingest_refuses_paths_outside_the_roots(client: TestClient, path: str) -> None:
    r = client.post("/api/ingest", json={"paths": [path]})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_ingest_refuses_a_link_out_of_a_root(client: TestClient, media_root: Path,
                                             tmp_path: Path) -> None:  # fmt: skip
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    link = media_root / "link.txt"
    os.symlink(secret, link)
    try:
        r = client.post("/api/ingest", json={"paths": [str(link)]})
        assert r.status_code == 403
    finally:
        link.unlink()


def test_media_is_served_by_id_only(client: TestClient) -> None:
    assert client.get("/api/items/..%2F..%2Fetc%2Fpasswd/media").status_code == 404
    assert client.get("/api/items/%2Fetc%2Fpasswd/media").status_code == 404


def test_oversize_upload_gets_413_unread(client: TestClient) -> None:
    big = b"\0" * (MAX_UPLOAD_MB * 2**20 + 1)
    r = client.post("/api/search", files={"image": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413 and r.json()["error"] == "too_large"

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(MAX_UPLOAD_MB * 4 + 1):
            yield b"\0" * 2**18

    r = client.post("/api/classify", content=chunks(),
                    headers={"Content-Type": "multipart/form-data; boundary=x"})  # fmt: skip
    assert r.status_code == 413


def test_corrupt_upload_gets_422_with_one_line(client: TestClient, photos: dict[str, Path]) -> None:
    cut = photos["rocket"].read_bytes()[:2000]
    r = client.post("/api/search", files={"image": ("rocket.jpg", cut, "image/jpeg")})
    assert r.status_code == 422 and r.json()["error"] == "corrupt"
    assert r.json()["detail"].startswith("rocket.jpg: ") and "\n" not in r.json()["detail"]


def test_unsupported_upload_gets_415(client: TestClient) -> None:
    zipped = b"PK\x03\x04" + b"\x00" * 200
    r = client.post("/api/classify", files=[("files", ("a.zip", zipped, "application/zip"))],
                    data={"labels": "a,b"})  # fmt: skip
    assert r.status_code == 415 and r.json()["error"] == "unsupported"
    assert "/tmp" not in r.json()["detail"]  # names the upload, not a server path


def test_bad_parameters_are_one_line_422(client: TestClient) -> None:
    for params, field in (({"q": "x", "k": 0}, "k"), ({"q": "x", "type": "sculpture"}, "type"),
                          ({}, "q")):  # fmt: skip
        r = client.get("/api/search", params=params)
        assert r.status_code == 422 and r.json()["error"] == "invalid"
        assert r.json()["field"] == field and "\n" not in r.json()["detail"]


def test_token_is_required_everywhere_under_api(token_client: TestClient) -> None:
    for path in ("/api/health", "/api/search?q=cat", "/api/stats"):
        assert token_client.get(path).status_code == 401
        wrong = token_client.get(path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    ok = token_client.get("/api/search?q=cat", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert token_client.get("/").status_code == 200  # the page itself asks for the token


def test_no_traceback_in_any_response(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(client.app.state.service.collection, "page", boom)  # type: ignore[attr-defined]
    r = client.get("/api/search", params={"q": "cat"})
    assert r.status_code == 500
    assert "Traceback" not in r.text and "secret internals" not in r.text
    assert r.json() == {"error": "internal", "detail": "internal error (see the server log)"}
    assert router.prefix == "/api"
