"""The uvicorn configuration `pictograph serve` and the tests' servers share."""

from __future__ import annotations

import gc

import uvicorn
from starlette.types import ASGIApp

from app.http_protocol import receipt_deadline_protocol
from app.request_limits import MAX_BODY_BYTES
from app.settings import Settings

# An idle kept-alive connection stays open this long: longer than the idle timeout of what
# stands in front (a load balancer's, 60 s on AWS's ALB) and of client pools (httpx's 5 s),
# so the client side always closes first and never sends a request on a connection the
# server is closing at that moment (uvicorn's own 5 s default races httpx's 5 s: a request
# sent just then failed with a reset connection).
KEEP_ALIVE_SECONDS = 65
# A graphql-transport-ws message carries at most one operation, as a POST body does, so the
# same bound holds; uvicorn's own 16 MiB would let one socket make the server buffer and
# parse 16 MiB per frame. A bigger frame closes the socket with 1009 (message too big).
MAX_WEBSOCKET_MESSAGE_BYTES = MAX_BODY_BYTES
# No permessage-deflate: graphql-transport-ws messages are a few hundred bytes of JSON, which
# deflate barely shrinks, while each compressed socket keeps zlib state of ~45 KB for its
# whole life (bench.delivery: 130 KB an idle subscribed socket with it, 87 KB without).
WEBSOCKET_COMPRESSION = False

# Objects allocated between two young collections (CPython's default: 700). One event
# fanned out to a thousand sockets keeps every receiver's loaders, futures and results
# alive until the fan-out ends, so with 700 they survived young collections into the oldest
# generation and set off full collections of the whole heap (every socket's state) about
# once an event: in bench.delivery at 1,000 sockets, 64% of the server's CPU was the
# collector. 50,000 lets a fan-out's garbage die young; what it costs is at most that many
# unreachable cyclic objects waiting (a few MB) between collections.
GC_YOUNG_THRESHOLD = 50_000
# How many young (then middle) collections before the next generation is examined:
# CPython's 10 for both, kept.
GC_OLDER_THRESHOLDS = (10, 10)


def tune_garbage_collector() -> None:
    """For a serving process only (`pictograph serve`), before it serves."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, *GC_OLDER_THRESHOLDS)


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
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        ws_max_size=MAX_WEBSOCKET_MESSAGE_BYTES,
        ws_per_message_deflate=WEBSOCKET_COMPRESSION,
    )
