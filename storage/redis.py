"""Opening Redis: redis.asyncio against a real server, or fakeredis in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import fakeredis
from redis.asyncio import BlockingConnectionPool
from redis.asyncio import Redis as AsyncRedis

Redis: TypeAlias = AsyncRedis

SOCKET_TIMEOUT_SECONDS = 2.0  # a stuck Redis must degrade reads to MongoDB, not hang them
HEALTH_CHECK_INTERVAL_SECONDS = 15  # ping idle pooled connections so dead ones are replaced
# Connections one process opens to Redis. A burst beyond them waits (up to the socket
# timeout) for a free one: redis-py's default pool refuses the 101st concurrent command at
# once ("Too many connections"), and a refused rate-limit check lets its request through,
# so a burst of concurrent requests used to slip past the rate limits (and miss the cache).
MAX_CONNECTIONS = 64


@asynccontextmanager
async def open_redis(url: str | None) -> AsyncIterator[Redis]:
    """Yield a client; `url=None` selects the in-process embedded default.

    Two `FakeAsyncRedis()` do not share data (each has a server of its own), so everything
    in the process, requests and the fan-out worker alike, must use the one client yielded
    here. Its Lua scripts run with fakeredis's `lua` extra (lupa)."""
    client: Redis
    if url is None:
        client = fakeredis.FakeAsyncRedis()
    else:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=SOCKET_TIMEOUT_SECONDS,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
        )
        client = AsyncRedis.from_pool(pool)  # closed with the client
    try:
        yield client
    finally:
        await client.aclose()
