"""The HTTP API and the web page: ``sensorium serve`` (FastAPI, uvicorn).

This package imports the library; the library never imports it. Install with
``pip install 'sensorium[service]'``.
"""

from sensorium.service.app import ServiceConfig, create_app, serve

__all__ = ["ServiceConfig", "create_app", "serve"]
