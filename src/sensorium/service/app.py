"""The FastAPI application: errors mapped by kind, the guard, the page, start-up.

Every error leaves as the contract's one model, ``{"error": kind, "detail": one line}`` (and
``field`` when one input is at fault), with the status its kind calls for (contract.py);
anything unexpected is logged here and answered 500 without a traceback.
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
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

import sensorium
from sensorium.collection import Collection
from sensorium.errors import MediaError, SensoriumError
from sensorium.service import people  # noqa: F401  (adds the people routes to the router)
from sensorium.service.contract import (
    STATUS,
    InvalidInput,
    error_response,
    exact_schema,
    field_name,
    kind_of,
)
from sensorium.service.guard import Guard
from sensorium.service.protocol import Head, allowed_methods
from sensorium.service.routes import router
from sensorium.service.state import Service, ServiceConfig, media_error_detail

__all__ = ["STATUS", "ServiceConfig", "create_app", "serve"]

log = logging.getLogger("sensorium.service")

STATIC = Path(str(resources.files("sensorium.service") / "static"))
DESCRIPTION = """Search, classify, transcribe and describe images, sounds, video and text.

Every error is one JSON model, `Error`: `{"error": kind, "detail": one line}`, with `field`
when one input is at fault; each operation lists the statuses it may answer with."""


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(SensoriumError)
    async def sensorium_error(_: Request, e: SensoriumError) -> JSONResponse:
        detail = media_error_detail(e) if isinstance(e, MediaError) else str(e)
        field = e.field if isinstance(e, InvalidInput) else None
        return error_response(e.kind, detail, field)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = e.errors()[0] if e.errors() else {}
        field = field_name(first.get("loc", ()))
        return error_response("invalid", f"{field}: {first.get('msg', 'invalid')}", field)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> Response:
        headers = dict(e.headers or {})
        if e.status_code == 405:  # every method of the resource, not only the first route's
            routes = [*app.routes, *router.routes]  # the API's own: included, not flattened
            allow = ", ".join(allowed_methods(routes, request.url.path))
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": allow})
            headers["Allow"] = allow
        return error_response(kind_of(e.status_code), str(e.detail), headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=e)
        return error_response("internal", "internal error (see the server log)")


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
        service.start_watching()  # serve --watch: a thread keeps the collection in step
        yield
        service.close()

    app = FastAPI(
        title="Sensorium",
        version=sensorium.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.service = service
    _handlers(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)  # fmt: skip
            app.openapi_schema = exact_schema(schema, config.token is not None,
                                              service.choices)  # fmt: skip
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(Head)
    app.add_middleware(Guard, token=config.token, max_bytes=config.max_bytes)
    return app


def serve(config: ServiceConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="info", access_log=False)
