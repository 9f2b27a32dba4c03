"""The story-tray benchmark: the contract's `StoryTray` for a viewer who follows 10, 100,
1,000 or 7,500 accounts (Instagram's following cap).

Each scenario has the same amount of content, whatever the number of followed accounts:
LIVE_AUTHORS of the followed accounts have STORIES_EACH live stories each, SEEN_AUTHORS of
those the viewer has seen, and the viewer has one of their own. The viewer's tray in Redis
is as fan-out leaves it (built, holding the live authors). So only the number of followed
accounts changes between scenarios, and the target is that the read does not notice it.

Requests go through the schema, one after another on one core, the caches warm. MongoDB
round trips are counted at the collection API, Redis round trips at the client's
connections (bench/roundtrips.py).

Run: `.venv/bin/python -m bench.story_tray` (starts its own redis-server; MongoDB is
mongomock, or PICTOGRAPH_TEST_MONGODB_URL).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from app.services import open_runtime
from app.settings import Settings
from bench.fanout import CONSOLE_WIDTH
from bench.roundtrips import CountingDatabase, RoundTrips, counting_redis
from bench.stats import LatencyStats
from resolvers.context import Context, Services
from schema import build_schema
from storage.follow import FollowState
from storage.mongo import Database, whole_milliseconds
from storage.post import MediaRecord, RenditionRecord
from storage.stores import Stores
from storage.story import STORY_LIFETIME, StoryRecord
from storage.user import UserRecord
from tests.contract import operation_source
from tests.servers import redis_server

DEFAULT_FOLLOWING = [10, 100, 1_000, 7_500]
LIVE_AUTHORS = 10  # followed accounts with live stories in every scenario: all of the smallest
STORIES_EACH = 3
SEEN_AUTHORS = 5  # of the live authors, those whose stories the viewer has all seen
WARMUP_REQUESTS = 20
BENCH_COST_BUDGET = 1_000_000_000
SCHEMA = build_schema(mask_errors=False)


@dataclass(frozen=True, slots=True)
class TrayDataset:
    viewer: UserRecord
    live_author_ids: list[int]


@dataclass(frozen=True)
class Measurement(LatencyStats):
    following: int
    entries: int
    stories: int
    mongo_round_trips: int
    redis_round_trips: int
    latencies: list[float]


async def make_tray_dataset(
    services: Services,
    database: Database,
    *,
    following: int,
    live_authors: int = LIVE_AUTHORS,
    stories_each: int = STORIES_EACH,
    seen_authors: int = SEEN_AUTHORS,
) -> TrayDataset:
    """A viewer following `following` accounts, the first `live_authors` of them with
    `stories_each` live stories, of which the viewer has seen those of `seen_authors`.

    A unique index in mongomock is checked by scanning the collection on every insert, so
    the users' and follows' indexes are dropped for the load and rebuilt after it."""
    stores, ids = services.stores, services.ids
    now = whole_milliseconds(services.clock())
    for name in ("users", "follows"):
        await database[name].drop_indexes()
    try:
        viewer_id = await _user(services, "viewer")
        followees = [await _user(services, "followee") for _ in range(following)]
        for followee in followees:
            await stores.follows.insert(ids.next_id(), viewer_id, followee, FollowState.FOLLOWING)
    finally:
        await stores.create_indexes()
    live = followees[:live_authors]
    for position, author in enumerate([*live, viewer_id]):
        for minutes in range(stories_each if author != viewer_id else 1):
            created = now - timedelta(minutes=60 - minutes)
            story = StoryRecord(
                id=ids.next_id(),
                author_id=author,
                media=MediaRecord(
                    ids.next_id(), "IMAGE", 1080, 1920, (RenditionRecord(1080, 1920, "s.jpg"),)
                ),
                created_at=created,
                expires_at=created + STORY_LIFETIME,
                viewer_count=0,
            )
            await stores.stories.insert(story)
            if position < seen_authors:
                await stores.stories.record_view(ids.next_id(), story, viewer_id)
        if author != viewer_id:
            await stores.story_trays.push([viewer_id], author, story.expires_at)
    await stores.story_trays.rebuild(viewer_id, {}, now=now)  # as a first read leaves it
    viewer = (await stores.users.find_by_ids([viewer_id]))[viewer_id]
    return TrayDataset(viewer, live)


async def _user(services: Services, name: str) -> int:
    user_id = services.ids.next_id()
    await services.stores.users.insert(
        user_id=user_id,
        username=f"{name}{user_id}",
        email=f"{name}{user_id}@example.com",
        password_hash="unused",
        created_at=services.clock(),
    )
    return user_id


async def read_tray(services: Services, viewer: UserRecord) -> list[Any]:
    result = await SCHEMA.execute(
        operation_source("StoryTray"), context_value=Context.for_viewer(services, viewer)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return cast("list[Any]", result.data["storyTray"])


async def run_scenario(redis_url: str, following: int, requests: int) -> Measurement:
    settings = Settings.model_validate(
        {
            "redis_url": redis_url,
            "mongodb_url": os.environ.get("PICTOGRAPH_TEST_MONGODB_URL"),
            "mongodb_database": f"pictograph_bench_{uuid.uuid4().hex[:8]}",
            # The benchmark is one viewer reading as fast as it can: far past any budget.
            "cost_budget_per_minute": BENCH_COST_BUDGET,
        }
    )
    async with open_runtime(settings) as runtime:
        services = runtime.services
        await services.redis.flushdb()  # the previous scenario's trays and caches
        dataset = await make_tray_dataset(services, runtime.database, following=following)
        mongo, redis = RoundTrips(), RoundTrips()
        counting = cast("Database", CountingDatabase(runtime.database, mongo))
        client = counting_redis(redis_url, redis)
        counted = dataclasses.replace(
            services, stores=Stores.create(counting, client), redis=client
        )
        try:
            for _ in range(WARMUP_REQUESTS):
                await read_tray(counted, dataset.viewer)
            mongo.reset()
            redis.reset()
            entries = await read_tray(counted, dataset.viewer)
            mongo_round_trips, redis_round_trips = mongo.total, redis.total
            gc.collect()
            gc.freeze()  # mongomock's heap is this process's: keep full collections off it
            latencies = []
            for _ in range(requests):
                started = time.perf_counter()
                await read_tray(counted, dataset.viewer)
                latencies.append(time.perf_counter() - started)
        finally:
            gc.unfreeze()
            await client.aclose()
    return Measurement(
        following=following,
        entries=len(entries),
        stories=sum(len(entry["stories"]) for entry in entries),
        mongo_round_trips=mongo_round_trips,
        redis_round_trips=redis_round_trips,
        latencies=latencies,
    )


async def benchmark(following: list[int], requests: int) -> list[Measurement]:
    with redis_server() as redis_url:
        return [await run_scenario(redis_url, count, requests) for count in following]


def report(results: list[Measurement]) -> None:
    console = Console(width=CONSOLE_WIDTH)
    table = Table(title="Story tray (one core, sequential requests, caches warm)")
    columns = ("following", "entries", "stories", "Mongo round trips", "Redis round trips",
               "p50 ms", "p99 ms", "p50 vs smallest")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    base = results[0].p50_ms
    for m in results:
        table.add_row(
            f"{m.following:,}",
            str(m.entries),
            str(m.stories),
            str(m.mongo_round_trips),
            str(m.redis_round_trips),
            f"{m.p50_ms:.2f}",
            f"{m.p99_ms:.2f}",
            f"{m.p50_ms / base:.2f}x",
        )
    console.print(table)


def main(
    following: Annotated[
        list[int], typer.Option(help="Accounts the viewer follows.")
    ] = DEFAULT_FOLLOWING,
    requests: Annotated[int, typer.Option(help="Measured requests per scenario.")] = 200,
) -> None:
    report(asyncio.run(benchmark(following, requests)))


if __name__ == "__main__":
    typer.run(main)
