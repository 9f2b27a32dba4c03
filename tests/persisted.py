"""Helpers for the persisted-query tests: a server in trusted-documents mode, and bodies."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from app.main import create_app
from app.services import Runtime
from tests.conftest import make_settings
from tests.servers import app_server, free_port

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"


@dataclass(frozen=True)
class TrustedServer:
    """The app with trusted documents required (as in production), and its backends."""

    url: str
    http: httpx.AsyncClient
    runtime: Runtime


@asynccontextmanager
async def trusted_server(redis_url: str, tmp: str) -> AsyncIterator[TrustedServer]:
    port = free_port()
    settings = make_settings(
        redis_url,
        port=port,
        media_dir=os.path.join(tmp, "media"),
        trusted_documents=True,
        fanout_in_server=False,  # no worker: it would take the other test apps' jobs
    )
    app = create_app(settings)
    async with (
        app_server(app, port) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield TrustedServer(url=url, http=http, runtime=app.state.runtime)


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def unique_document() -> str:
    """A query no other test sends: its comment makes its hash its own."""
    return f"# {uuid.uuid4().hex}\nquery Unique {{ viewer {{ id }} }}"


def persisted_extensions(sha256_hash: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hash}}


def persisted_body(sha256_hash: str, query: str | None = None) -> dict[str, Any]:
    """What Apollo's persisted-query link POSTs: the hash, and the document on a retry."""
    body: dict[str, Any] = {"extensions": persisted_extensions(sha256_hash)}
    if query is not None:
        body["query"] = query
    return body


def error_codes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (error["message"], (error.get("extensions") or {}).get("code"))
        for error in body.get("errors", [])
    ]
