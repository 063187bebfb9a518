"""The FastAPI application: errors mapped by kind, the guard, the page, start-up.

Every error leaves as JSON ``{"error": kind, "detail": one line}`` with the status its kind
calls for; anything unexpected is logged here and answered 500 without a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

import sensorium
from sensorium.collection import Collection
from sensorium.errors import MediaError, SensoriumError
from sensorium.service.guard import Guard
from sensorium.service.routes import router
from sensorium.service.state import Service, ServiceConfig, media_error_detail

__all__ = ["STATUS", "ServiceConfig", "create_app", "serve"]

log = logging.getLogger("sensorium.service")

# An error's kind -> the HTTP status that says it (errors.py draws the kinds)
STATUS = {
    "usage": 400, "forbidden": 403, "missing": 404, "too_large": 413, "unsupported": 415,
    "corrupt": 422, "unusable": 422, "model": 503, "error": 500,
}  # fmt: skip
STATIC = Path(str(resources.files("sensorium.service") / "static"))


def _error(status: int, kind: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": kind, "detail": detail}, status_code=status)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(SensoriumError)
    async def sensorium_error(_: Request, e: SensoriumError) -> JSONResponse:
        detail = media_error_detail(e) if isinstance(e, MediaError) else e.to_json()["detail"]
        return _error(STATUS.get(e.kind, 500), e.kind, detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ())[1:]) or "request"
        return _error(422, "invalid", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, e: HTTPException) -> JSONResponse:
        kind = {401: "unauthorized", 404: "missing", 405: "method"}.get(e.status_code, "http")
        return _error(e.status_code, kind, str(e.detail).splitlines()[0])

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=e)
        return _error(500, "internal", "internal error (see the server log)")


def create_app(config: ServiceConfig | None = None, collection: Collection | None = None) -> Any:
    """The ASGI application. ``collection`` shares an open one (tests); by default the
    config's folder is opened. Models load at start-up when ``config.warm``."""
    config = config or ServiceConfig()
    service = Service(config, collection)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if config.warm:
            await anyio.to_thread.run_sync(service.warm)
        service.ready = True
        yield
        service.close()

    app = FastAPI(
        title="Sensorium",
        version=sensorium.__version__,
        description="Search, classify, transcribe and describe images, sounds, video and "
        "text. Errors are JSON: {error: kind, detail: one line}.",
        lifespan=lifespan,
    )
    app.state.service = service
    _handlers(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.add_middleware(Guard, token=config.token, max_bytes=config.max_bytes)
    return app


def serve(config: ServiceConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="info", access_log=False)
