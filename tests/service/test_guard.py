"""The guard in front of the service, under uvicorn on 127.0.0.1: an upload over the bound, or
without the token, gets its 413 or 401 in every common client, including those that send the
whole body before they read the answer (urllib, requests), which a refusal sent unread met as
a reset connection (20 MB to a 2 MB bound: ``ConnectionResetError`` in urllib)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sensorium.service import guard
from sensorium.service.guard import Guard

BOUND = 2 * 2**20
OVER = 20 * 2**20  # ten times the bound: more than the sockets' buffers hold


async def _upload(request: Request) -> JSONResponse:
    return JSONResponse({"read": len(await request.body())})


@dataclass(frozen=True)
class Served:
    url: str
    auth: dict[str, str]  # the header the service needs ({} when it has no token)


@pytest.fixture(scope="module", params=[None, "s3cret"], ids=["open", "token"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    import uvicorn

    app = Guard(Starlette(routes=[Route("/api/up", _upload, methods=["POST"])]),
                request.param, BOUND)  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    auth = {"Authorization": f"Bearer {request.param}"} if request.param else {}
    yield Served(f"http://127.0.0.1:{port}/api/up", auth)
    server.should_exit = True
    thread.join(timeout=10)


def _urllib(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _requests(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    import requests

    r = requests.post(url, data=body, headers=headers, timeout=60)
    return r.status_code, r.json()


def _httpx(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    r = httpx.post(url, content=body, headers=headers, timeout=60)
    return r.status_code, r.json()


CLIENTS: dict[str, Callable[[str, bytes, dict[str, str]], tuple[int, dict]]] = {
    "urllib": _urllib, "requests": _requests, "httpx": _httpx,
}  # fmt: skip


@pytest.mark.parametrize("client", CLIENTS)
def test_over_the_bound_is_a_413_in_every_client(served: Served, client: str) -> None:
    status, body = CLIENTS[client](served.url, b"\0" * OVER, served.auth)
    assert (status, body["error"]) == (413, "too_large"), body
    status, body = CLIENTS[client](served.url, b"\0" * 1000, served.auth)  # under: read whole
    assert (status, body) == (200, {"read": 1000})


@pytest.mark.parametrize("client", CLIENTS)
def test_no_token_is_a_401_in_every_client(served: Served, client: str) -> None:
    """Just under the bound, with no header: refused by the service with a token, read
    whole by the one without."""
    status, body = CLIENTS[client](served.url, b"\0" * (BOUND - 1), {})
    if served.auth:
        assert (status, body["error"]) == (401, "unauthorized"), body
    else:
        assert (status, body) == (200, {"read": BOUND - 1})


def test_a_body_without_length_over_the_bound_is_a_413(served: Served) -> None:
    def chunks() -> Iterator[bytes]:  # chunked: counted as it arrives, then drained
        for _ in range(OVER // 2**16):
            yield b"\0" * 2**16

    r = httpx.post(served.url, content=chunks(), headers=served.auth, timeout=60)
    assert r.status_code == 413 and r.json()["error"] == "too_large"


def _head(served: Served, length: int, *lines: str) -> bytes:
    """A POST's head, as a client on a bare socket sends it."""
    extra = [*lines, *(f"{k}: {v}" for k, v in served.auth.items())]
    head = ["POST /api/up HTTP/1.1", "Host: x", f"Content-Length: {length}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


def _socket(served: Served) -> socket.socket:
    host, port = served.url.split("//")[1].split("/")[0].split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_expect_continue_is_answered_without_the_body(served: Served) -> None:
    """A client that waits for ``100 Continue`` gets the 413 at once and sends nothing."""
    with _socket(served) as s:
        s.sendall(_head(served, OVER, "Expect: 100-continue"))
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_body_past_the_drain_bound_is_refused_without_reading_it_all(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``DRAIN_BYTES`` the answer goes out and the connection closes: a client still
    sending may meet the reset, but the server has not read (or waited for) the rest."""
    monkeypatch.setattr(guard, "DRAIN_BYTES", 4 * 2**20)
    started = time.monotonic()
    with _socket(served) as s:
        s.sendall(_head(served, 2**40))  # a terabyte declared
        try:
            for _ in range(256):  # 16 MB of it sent, then no more
                s.sendall(b"\0" * 2**16)
        except OSError:
            pass  # refused and closed while still sending: the point
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < guard.DRAIN_SECONDS
