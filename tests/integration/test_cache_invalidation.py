"""The read-through cache never keeps a value that a write replaced while it was read.

Each test runs against a real redis-server and against the embedded fakeredis. The
interleavings are driven by the reader's `load` (its MongoDB read), which does the writer's
work at the moment the race needs it, so no test depends on timing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import fakeredis
import pytest
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from storage.cache import FILL_DEADLINE_SECONDS, Cache
from storage.redis import Redis
from tests.servers import free_port

KEY = 7


@pytest.fixture(params=["redis-server", "fakeredis"])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    client: Redis
    if request.param == "redis-server":
        client = AsyncRedis.from_url(request.getfixturevalue("redis_url"))
    else:
        client = fakeredis.FakeAsyncRedis()
    try:
        yield client
    finally:
        await client.aclose()


@dataclass
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Database:
    """What MongoDB holds, and how many times a reader went to it."""

    values: dict[int, str] = field(default_factory=dict)
    reads: int = 0

    async def load(self, keys: list[int]) -> dict[int, str]:
        self.reads += 1
        return {key: self.values[key] for key in keys if key in self.values}


def text_cache(redis: Redis, clock: Callable[[], float] = time.monotonic) -> Cache[int, str]:
    namespace = f"test-{uuid.uuid4().hex}"  # a namespace per test: the server is shared
    return Cache(
        redis,
        namespace,
        key_text=str,
        encode=lambda value: value,
        decode=lambda data: data.decode() if isinstance(data, bytes) else data,
        clock=clock,
    )


async def test_a_fill_that_raced_a_write_leaves_no_old_value(redis: Redis) -> None:
    cache, database = text_cache(redis), Database({KEY: "old"})

    async def read_then_writer_runs(keys: list[int]) -> dict[int, str]:
        read = await database.load(keys)  # the reader has read "old" from MongoDB
        database.values[KEY] = "new"  # then a writer updates MongoDB
        await cache.delete(KEY)  # and invalidates, before the reader writes back
        return read

    assert await cache.read_through([KEY], read_then_writer_runs) == {KEY: "old"}

    assert await cache.read_through([KEY], database.load) == {KEY: "new"}


async def test_a_miss_after_a_write_caches_the_new_value(redis: Redis) -> None:
    cache, database = text_cache(redis), Database({KEY: "old"})
    await cache.read_through([KEY], database.load)
    database.values[KEY] = "new"
    await cache.delete(KEY)
    await cache.read_through([KEY], database.load)
    reads_before = database.reads

    assert await cache.read_through([KEY], database.load) == {KEY: "new"}
    assert database.reads == reads_before


async def test_a_raced_fill_refuses_only_the_written_key(redis: Redis) -> None:
    cache, database = text_cache(redis), Database({KEY: "old", KEY + 1: "other"})

    async def read_then_writer_runs(keys: list[int]) -> dict[int, str]:
        read = await database.load(keys)
        database.values[KEY] = "new"
        await cache.delete(KEY)
        return read

    await cache.read_through([KEY, KEY + 1], read_then_writer_runs)
    reads_before = database.reads

    assert await cache.read_through([KEY + 1], database.load) == {KEY + 1: "other"}
    assert database.reads == reads_before


async def test_a_fill_later_than_its_deadline_is_dropped(redis: Redis) -> None:
    clock = Clock()
    cache, database = text_cache(redis, clock), Database({KEY: "value"})

    async def slow_read(keys: list[int]) -> dict[int, str]:
        clock.now += FILL_DEADLINE_SECONDS + 1
        return await database.load(keys)

    await cache.read_through([KEY], slow_read)
    await cache.read_through([KEY], database.load)

    assert database.reads == 2


async def test_reads_come_from_mongodb_while_redis_is_unreachable() -> None:
    # No retries: each command fails at once, as a client whose retries are spent does.
    unreachable = AsyncRedis(port=free_port(), retry=Retry(NoBackoff(), 0))
    cache, database = text_cache(unreachable), Database({KEY: "value"})
    try:
        await cache.delete(KEY)

        assert await cache.read_through([KEY], database.load) == {KEY: "value"}
    finally:
        await unreachable.aclose()
