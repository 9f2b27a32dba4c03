"""The uvicorn configuration `pictograph serve` and the tests' servers share."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp

from app.http_protocol import receipt_deadline_protocol
from app.settings import Settings


def uvicorn_config(app: ASGIApp, settings: Settings, *, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        lifespan="on",
        http=receipt_deadline_protocol(
            settings.request_headers_timeout_seconds, settings.request_body_timeout_seconds
        ),
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default and rewrite the
        # client's address; which proxies to believe is PICTOGRAPH_TRUSTED_PROXIES's call.
        proxy_headers=False,
    )
