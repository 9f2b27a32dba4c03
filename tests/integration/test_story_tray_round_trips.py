"""The story tray costs the same MongoDB and Redis round trips whatever the number of
accounts the viewer follows: the tray reads the viewer's set of followed authors with live
stories, then batches every read over those authors."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import cast

import pytest

from app.services import Runtime, open_runtime
from bench.roundtrips import CountingDatabase, RoundTrips, counting_redis
from bench.story_tray import LIVE_AUTHORS, TrayDataset, make_tray_dataset, read_tray
from storage.mongo import Database
from storage.stores import Stores
from tests.conftest import make_settings

FOLLOWING = [10, 300]
# Warm: the tray set, the two large-account lists, the cached users, blocks, follow states
# and follow times, and the viewer's affinity counters for the tray's authors (closeness)
# from Redis; the live stories and the viewer's views of them from MongoDB.
MAX_MONGO_ROUND_TRIPS = 2
MAX_REDIS_ROUND_TRIPS = 8
TRAY_REDIS_DATABASE = 4  # its own: flushing it disturbs no other test


@dataclasses.dataclass(frozen=True)
class Counts:
    mongo: int
    redis: int


@pytest.fixture(scope="module")
async def runtime(redis_url: str) -> AsyncIterator[Runtime]:
    own = f"{redis_url.rsplit('/', 1)[0]}/{TRAY_REDIS_DATABASE}"
    async with open_runtime(make_settings(own)) as runtime:
        await runtime.services.redis.flushdb()
        yield runtime


@pytest.fixture(scope="module")
async def datasets(runtime: Runtime) -> dict[int, TrayDataset]:
    return {
        following: await make_tray_dataset(runtime.services, runtime.database, following=following)
        for following in FOLLOWING
    }


async def counted_read(
    runtime: Runtime, dataset: TrayDataset, redis_url: str, *, warm: bool = True
) -> Counts:
    """One tray read's round trips; `warm`: after a read that filled the caches (and loaded
    the Lua script), else the first read after Redis lost everything, which rebuilds it."""
    mongo, redis = RoundTrips(), RoundTrips()
    client = counting_redis(redis_url, redis)
    counting = cast("Database", CountingDatabase(runtime.database, mongo))
    services = dataclasses.replace(
        runtime.services, stores=Stores.create(counting, client), redis=client
    )
    try:
        if warm:
            await read_tray(services, dataset.viewer)
        mongo.reset()
        redis.reset()
        entries = await read_tray(services, dataset.viewer)
    finally:
        await client.aclose()
    assert len(entries) == LIVE_AUTHORS + 1  # and the viewer's own
    return Counts(mongo.total, redis.total)


@pytest.fixture
def tray_redis_url(redis_url: str) -> str:
    return f"{redis_url.rsplit('/', 1)[0]}/{TRAY_REDIS_DATABASE}"


async def test_a_warm_tray_costs_the_same_round_trips_for_10_and_300_followed_accounts(
    runtime: Runtime, datasets: dict[int, TrayDataset], tray_redis_url: str
) -> None:
    counts = [await counted_read(runtime, datasets[n], tray_redis_url) for n in FOLLOWING]

    assert counts[0] == counts[1]
    assert counts[0].mongo <= MAX_MONGO_ROUND_TRIPS
    assert counts[0].redis <= MAX_REDIS_ROUND_TRIPS


async def test_a_tray_rebuilt_after_redis_lost_it_costs_the_same_for_both(
    runtime: Runtime, datasets: dict[int, TrayDataset], tray_redis_url: str
) -> None:
    counts = []
    for following in FOLLOWING:
        await runtime.services.redis.flushdb()
        counts.append(await counted_read(runtime, datasets[following], tray_redis_url, warm=False))

    assert counts[0] == counts[1]
