"""An app served by uvicorn on a redis-server of its own, for the realtime tests, with the
operations they run against it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.main import create_app
from tests.client import Account, GraphQLClient
from tests.conftest import TEST_FANOUT_MAX_FOLLOWERS, make_settings
from tests.media import jpeg
from tests.servers import app_server, free_port, redis_server
from tests.ws import until

PHOTO = jpeg(64, 48)


@dataclass(frozen=True)
class Server:
    url: str
    app: Starlette
    graphql: GraphQLClient

    async def run(self, operation: str, account: Account | None, **variables: Any) -> Any:
        return await self.graphql.run(operation, account, **variables)

    async def subscribed(self, channel: str, count: int = 1) -> None:
        """Returns once `count` subscribers of `channel` are receiving on the server: what is
        published from then on reaches them (the protocol itself never says)."""
        deliveries = self.app.state.services.deliveries
        await until(lambda: deliveries.receiver_count(channel) >= count)

    async def post(self, author: Account) -> str:
        payload = await self.graphql.create_post(author, [PHOTO])
        assert payload["errors"] == []
        post_id: str = payload["post"]["id"]
        return post_id

    async def send(self, sender: Account, text: str, **target: Any) -> dict[str, Any]:
        payload = await self.run(
            "SendMessage", sender, text=text, clientId=uuid.uuid4().hex, **target
        )
        assert payload["errors"] == [], payload["errors"]
        message: dict[str, Any] = payload["message"]
        return message


@asynccontextmanager
async def own_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """An app with its in-server worker on a redis-server of its own: on the session's, the
    worker of another test's app (with another in-memory database) could take this one's
    notification jobs, and do them against the wrong data."""
    with redis_server() as own_redis:
        async with served(own_redis, tmp_path_factory) as server:
            yield server


@asynccontextmanager
async def served(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    port = free_port()
    settings = make_settings(
        redis_url,
        port=port,
        media_dir=str(tmp_path_factory.mktemp("served") / "media"),
        fanout_in_server=True,
        fanout_max_followers=TEST_FANOUT_MAX_FOLLOWERS,
    )
    app = create_app(settings)
    async with (
        app_server(app, port) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield Server(url, app, GraphQLClient(http))
