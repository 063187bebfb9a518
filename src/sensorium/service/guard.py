"""The ASGI layer in front of every request: the bearer token and the upload bound.

It answers before the application sees the request, so an upload over the bound is refused
from its ``Content-Length`` and never handed on; a body sent without a length (chunked) is read
up to the bound and refused there. A refused body is read and thrown away first (up to
``DRAIN_BYTES`` in ``DRAIN_SECONDS``): clients that send a whole body before they read the
answer (urllib, requests) would otherwise meet a reset connection instead of the 413 or 401.
A client that asked ``Expect: 100-continue`` never sent it, and gets the answer at once.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sensorium.service.contract import STATUS, error_body

__all__ = ["DRAIN_BYTES", "DRAIN_SECONDS", "TOKEN_COOKIE", "Guard"]

DRAIN_BYTES = 64 * 2**20  # of a refused body, read and dropped before answering (never kept)
DRAIN_SECONDS = 10.0  # a client that stalls is answered then

TOKEN_COOKIE = "sensorium_token"  # the page sets it, so <img> and <video> can load media
# GETs that a browser makes from tags, which cannot send a header: the cookie is enough here
_COOKIE_PATHS = ("/media", "/thumbnail")


async def send_error(send: Send, kind: str, detail: str, **headers: str) -> None:
    """The contract's error model, sent before the application sees the request."""
    await send_json(send, STATUS[kind], error_body(kind, detail), **headers)


async def send_json(send: Send, status: int, body: dict[str, Any], **headers: str) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class Guard:
    def __init__(self, app: ASGIApp, token: str | None, max_bytes: int) -> None:
        self.app = app
        self.token = token
        self.max_bytes = max_bytes

    def _authorized(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        assert self.token is not None
        given = headers.get(b"authorization", b"").decode("latin-1")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:], self.token):
            return True
        if scope["method"] == "GET" and scope["path"].endswith(_COOKIE_PATHS):
            cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
            morsel = cookie.get(TOKEN_COOKIE)
            return morsel is not None and hmac.compare_digest(morsel.value, self.token)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.token and scope["path"].startswith("/api") and not self._authorized(scope, headers):
            await _drain(receive, headers)
            await send_error(send, "unauthorized", "send Authorization: Bearer <token>",
                             www_authenticate="Bearer")  # fmt: skip
            return
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await send_error(send, "usage", "bad Content-Length", connection="close")
            elif int(length) > self.max_bytes:
                await _drain(receive, headers)
                await self._too_large(send)
            else:
                await self.app(scope, receive, send)
            return
        if scope["method"] in ("POST", "PUT", "PATCH"):
            await self._bounded(scope, receive, send, headers)
            return
        await self.app(scope, receive, send)

    async def _too_large(self, send: Send) -> None:
        mb = self.max_bytes / 2**20
        await send_error(
            send, "too_large", f"the upload is over the {mb:g} MB bound", connection="close"
        )

    async def _bounded(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes]
    ) -> None:
        """A body without a length: read it up to the bound, then hand it on."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                if message.get("more_body", False):
                    await _drain(receive, headers)
                await self._too_large(send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _drain(receive: Receive, headers: dict[bytes, bytes]) -> None:
    """Read what is left of a refused body and drop it, up to ``DRAIN_BYTES`` and
    ``DRAIN_SECONDS``; past either the answer goes out and the connection closes."""
    if headers.get(b"expect", b"").lower() == b"100-continue":
        return  # the body waits for a go-ahead that the refusal replaces
    if headers.get(b"content-length", b"0") == b"0" and b"transfer-encoding" not in headers:
        return  # no body
    size = 0
    with anyio.move_on_after(DRAIN_SECONDS):
        while size <= DRAIN_BYTES:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
            size += len(message.get("body", b""))
