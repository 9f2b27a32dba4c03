"""Fixtures shared by every test: real servers for integration tests, started once."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.client import GraphQLClient
from tests.servers import app_server, redis_server

# When set, the same tests run against this MongoDB instead of the in-memory one.
TEST_MONGODB_URL_VARIABLE = "PICTOGRAPH_TEST_MONGODB_URL"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def make_settings(redis_url: str | None, **overrides: object) -> Settings:
    """Settings for a test app: real Redis, MongoDB real when configured, else in memory."""
    values: dict[str, object] = {
        "redis_url": redis_url,
        "mongodb_url": os.environ.get(TEST_MONGODB_URL_VARIABLE),
        # A database per run, so runs against a shared MongoDB never see each other's data.
        "mongodb_database": f"pictograph_test_{uuid.uuid4().hex[:12]}",
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.fixture(scope="session")
async def server_url(redis_url: str) -> AsyncIterator[str]:
    """The app served by uvicorn on a free port, against a real redis-server."""
    async with app_server(create_app(make_settings(redis_url))) as url:
        yield url


@pytest.fixture(scope="session")
async def graphql(server_url: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        yield GraphQLClient(http)
