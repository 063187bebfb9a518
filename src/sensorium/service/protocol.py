"""HTTP's own rules, kept for every route (RFC 9110): HEAD is answered as GET is, without the
body; a 405 names the methods the resource has (``Allow``) and OPTIONS lists them; a ``Range``
that cannot be served gets 416 before a byte of the file is read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEAD_KEY", "Head", "allowed_methods", "unservable_range"]

HEAD_KEY = "sensorium.head"  # set in the scope of a HEAD request routed as GET


class Head:
    """Routes HEAD as GET and drops the body, keeping every header (Content-Length too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET", HEAD_KEY: True}, receive, headers_only)


def allowed_methods(routes: Iterable[Any], path: str) -> list[str]:
    """The methods some route answers at ``path``: HEAD with GET, OPTIONS with any."""
    methods: set[str] = set()
    for route in routes:
        regex, own = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and own and regex.match(path):
            methods |= own
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"}) if methods else []


def unservable_range(request: Request, size: int, response: FileResponse) -> str | None:
    """Why the request's ``Range`` cannot be served from a file of ``size`` bytes, or None
    when it can (or when there is none, or an ``If-Range`` that no longer holds makes it moot).
    Read by the parser that will serve it, so the two cannot disagree."""
    value = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if value is None or (if_range is not None and not response._should_use_range(if_range)):
        return None
    try:
        FileResponse._parse_range_header(value, size)
    except MalformedRangeHeader as e:
        return f"bad Range {value[:80]!r}: {e.content.rstrip('.').lower()}"
    except RangeNotSatisfiable:
        return f"Range {value[:80]!r} lies outside the file"
    return None
