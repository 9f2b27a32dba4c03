"""`pictograph serve` and the tests' servers run uvicorn the same way: with the protocol
that enforces receipt deadlines, and without uvicorn's own X-Forwarded-For handling."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from app.http_protocol import ReceiptDeadlineProtocol
from app.server import uvicorn_config
from app.settings import Settings


def test_uvicorn_runs_the_receipt_deadline_protocol_with_the_settings_deadlines() -> None:
    settings = Settings.model_validate(
        {"request_headers_timeout_seconds": 3, "request_body_timeout_seconds": 7}
    )

    config = uvicorn_config(Starlette(), settings, log_level="warning")

    assert isinstance(config.http, type) and issubclass(config.http, ReceiptDeadlineProtocol)
    assert (config.http.headers_timeout, config.http.body_timeout) == (3, 7)


def test_uvicorn_leaves_x_forwarded_for_to_the_trusted_proxies_setting() -> None:
    config = uvicorn_config(Starlette(), Settings.model_validate({}), log_level="warning")

    assert config.proxy_headers is False


def test_idle_connections_outlive_the_idle_timeouts_of_clients_and_load_balancers() -> None:
    # httpx pools keep an idle connection 5 s, AWS's ALB 60 s: the server must close later,
    # or a request sent on a connection it is just closing fails with a reset.
    client_idle_seconds = max(httpx.Limits().keepalive_expiry or 0, 60)

    config = uvicorn_config(Starlette(), Settings.model_validate({}), log_level="warning")

    assert config.timeout_keep_alive > client_idle_seconds
