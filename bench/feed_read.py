"""The feed-read benchmark: the first page of the home feed, ranked and chronological, for a
viewer who follows 100, 1,000 or 10,000 accounts, LARGE_FOLLOWED of them above the fan-out
threshold (their posts are not in the viewer's Redis feed and are merged at read time).

Each scenario has the same amount of content, whatever the number of followed accounts:
the viewer's Redis feed holds FEED_MAX_ITEMS post ids (posts of the ordinary followed
accounts, spread over as many of them as it takes), and each large account has
LARGE_POSTS_EACH recent posts in MongoDB. So what changes between scenarios is only the
number of followed accounts, and the target is that the read does not notice it.

An extra scenario keeps the viewer's follows at 1,000 but puts LARGE_ACCOUNTS_LIMIT large
accounts in the system, of which the viewer still follows LARGE_FOLLOWED: the read checks
the viewer's follow of every large account in the system, so this is the cost that does grow.

Requests go through the schema with the contract's `Feed` operation and `PostCard` fragment,
one after another on one core, the caches warm. MongoDB round trips are counted at the
collection API (bench/roundtrips.py), Redis commands by Redis (INFO commandstats).

Run: `.venv/bin/python -m bench.feed_read` (starts its own redis-server; MongoDB is
mongomock, or PICTOGRAPH_TEST_MONGODB_URL).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.table import Table

from app.services import open_runtime
from app.settings import Settings
from bench.dataset import FEED_QUERY
from bench.fanout import CONSOLE_WIDTH, command_stats
from bench.roundtrips import CountingDatabase, RoundTrips
from bench.stats import LatencyStats
from resolvers.context import Context, Services
from resolvers.ids import parse_typed_id
from schema import build_schema
from storage.comment import CommentRecord
from storage.feed import FEED_MAX_ITEMS
from storage.follow import FollowState
from storage.ids import id_for_time
from storage.large_accounts import LARGE_ACCOUNTS_LIMIT
from storage.mongo import Database
from storage.post import CommentRef, MediaRecord, PostRecord, RenditionRecord
from storage.redis import Redis
from storage.stores import Stores
from tests.servers import redis_server

DEFAULT_FOLLOWING = [100, 1_000, 10_000]  # the followed-account counts the issue names
LARGE_FOLLOWED = 5  # followed accounts above the fan-out threshold, merged at read time
LARGE_THRESHOLD = 100  # fanout_max_followers here: low, so a few accounts count as large
LARGE_POSTS_EACH = 20  # recent posts of each large account, read from MongoDB per read
PAGE_SIZE = 20  # the contract's default `first`
POST_INTERVAL = timedelta(minutes=3)  # between consecutive posts: 800 posts span ~2 days
COMMENTS_PER_POST = 2  # the card shows two preview comments
WARMUP_REQUESTS = 5  # fill the record and relation caches, as a returning reader finds them
SCHEMA = build_schema(mask_errors=False)
ORDERS = ("RANKED", "CHRONOLOGICAL")


@dataclasses.dataclass(frozen=True)
class Scenario:
    following: int  # accounts the viewer follows, LARGE_FOLLOWED of them large
    large_in_system: int = LARGE_FOLLOWED  # large accounts in all, followed or not

    @property
    def name(self) -> str:
        extra = self.large_in_system - LARGE_FOLLOWED
        return f"{self.following:,}" + (f" (+{extra:,} unfollowed large)" if extra else "")


@dataclasses.dataclass
class Measurement(LatencyStats):
    scenario: Scenario
    order: str
    edges: int
    merged: int  # of the edges, posts of large accounts, merged at read time
    mongo_round_trips: int
    redis_commands: int
    latencies: list[float]


# --- the dataset ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Dataset:
    scenario: Scenario
    viewer_id: int
    merged_post_ids: frozenset[int]  # the followed large accounts' posts, only in MongoDB


class Loader:
    """Writes the scenario through the stores. A unique index in mongomock is checked by
    scanning the collection on every insert, so the indexes are dropped for the load and
    rebuilt after it, the way a bulk restore does it."""

    def __init__(self, services: Services, database: Database) -> None:
        self._services = services
        self._database = database
        self._now = services.clock()

    async def __aenter__(self) -> Loader:
        for name in ("users", "follows", "posts", "comments"):
            await self._database[name].drop_indexes()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._services.stores.create_indexes()

    def next_id(self) -> int:
        return self._services.ids.next_id()

    async def user(self, name: str, followers: int = 0) -> int:
        users = self._services.stores.users
        user_id = self.next_id()
        await users.insert(
            user_id=user_id,
            username=f"{name}{user_id}",
            email=f"{name}{user_id}@example.com",
            password_hash="unused",
            created_at=self._now,
        )
        if followers:
            await users.increment_counts(user_id, follower=followers)
        return user_id

    async def follow(self, follower_id: int, followee_id: int) -> None:
        follows = self._services.stores.follows
        await follows.insert(self.next_id(), follower_id, followee_id, FollowState.FOLLOWING)

    async def post(self, author_id: int, created: datetime, commenters: list[int]) -> int:
        stores = self._services.stores
        post_id = id_for_time(created)  # unique: no two posts here share a millisecond
        image = MediaRecord(
            self.next_id(), "IMAGE", 1080, 1080, (RenditionRecord(1080, 1080, "m.jpg"),)
        )
        record = PostRecord(post_id, author_id, "a photo", (), (), (image,), 0, 0, (), created)
        await stores.posts.insert(record, client_mutation_id=None)
        refs = []
        for commenter in commenters:
            comment = CommentRecord(self.next_id(), post_id, commenter, "nice", None, 0, created)
            await stores.comments.insert(comment)
            refs.append(CommentRef(comment.id, commenter))
        await stores.posts.set_preview_comments(post_id, refs)
        await stores.posts.increment_counts(post_id, comment=len(refs))
        return post_id


def post_times(now: datetime, count: int) -> Iterable[datetime]:
    return (now - POST_INTERVAL * (index + 1) for index in range(count))


async def make_dataset(services: Services, database: Database, scenario: Scenario) -> Dataset:
    """The viewer, whom they follow, the posts, and the viewer's feed as fan-out left it."""
    now = services.clock()
    async with Loader(services, database) as load:
        viewer = await load.user("viewer")
        commenters = [await load.user("commenter") for _ in range(COMMENTS_PER_POST)]
        large = [
            await load.user("large", followers=LARGE_THRESHOLD + 1)
            for _ in range(scenario.large_in_system)
        ]
        ordinary = [await load.user("author") for _ in range(scenario.following - LARGE_FOLLOWED)]
        for followee in [*large[:LARGE_FOLLOWED], *ordinary]:
            await load.follow(viewer, followee)
        feed_posts = [
            await load.post(ordinary[index % len(ordinary)], created, commenters)
            for index, created in enumerate(post_times(now, FEED_MAX_ITEMS))
        ]
        # Interleaved in time with the feed's posts, so a page shows both.
        large_times = post_times(now + POST_INTERVAL / 2, LARGE_POSTS_EACH * LARGE_FOLLOWED)
        merged = [
            await load.post(large[index % LARGE_FOLLOWED], created, commenters)
            for index, created in enumerate(large_times)
        ]
    await services.stores.feeds.rebuild(viewer, feed_posts)
    return Dataset(scenario, viewer, frozenset(merged))


# --- measuring -----------------------------------------------------------------------------


class Reader:
    """Runs the Feed query as a request would: fresh loaders, the viewer from the stores."""

    def __init__(self, services: Services, stores: Stores, viewer_id: int) -> None:
        self._services = dataclasses.replace(services, stores=stores)
        self._viewer_id = viewer_id

    async def read(self, order: str) -> list[int]:
        """One request; the ids of the posts it returned."""
        stores = self._services.stores
        viewer = (await stores.users.find_by_ids([self._viewer_id]))[self._viewer_id]
        context = Context.for_viewer(self._services, viewer)
        result = await SCHEMA.execute(
            FEED_QUERY,
            variable_values={"first": PAGE_SIZE, "order": order},
            context_value=context,
        )
        assert result.errors is None, result.errors
        assert result.data is not None
        raw_ids = [edge["node"]["id"] for edge in result.data["feed"]["edges"]]
        return [post_id for raw in raw_ids if (post_id := parse_typed_id(raw, "Post"))]


async def measure(
    reader: Reader, redis: Redis, counter: RoundTrips, dataset: Dataset, order: str, n: int
) -> Measurement:
    for _ in range(WARMUP_REQUESTS):
        await reader.read(order)
    counter.reset()
    before = await command_stats(redis)
    post_ids = await reader.read(order)
    commands = (await command_stats(redis) - before).total
    round_trips = counter.total
    latencies = []
    gc.collect()
    for _ in range(n):
        started = time.perf_counter()
        await reader.read(order)
        latencies.append(time.perf_counter() - started)
    merged = len(dataset.merged_post_ids.intersection(post_ids))
    return Measurement(
        dataset.scenario, order, len(post_ids), merged, round_trips, commands, latencies
    )


async def run_scenario(redis_url: str, scenario: Scenario, requests: int) -> list[Measurement]:
    settings = Settings.model_validate(
        {
            "redis_url": redis_url,
            "mongodb_url": os.environ.get("PICTOGRAPH_TEST_MONGODB_URL"),
            "mongodb_database": f"pictograph_bench_{uuid.uuid4().hex[:8]}",
            "fanout_max_followers": LARGE_THRESHOLD,
        }
    )
    async with open_runtime(settings) as runtime:
        services = runtime.services
        await services.redis.flushdb()  # the previous scenario's feeds and caches
        dataset = await make_dataset(services, runtime.database, scenario)
        counter = RoundTrips()
        counting = cast("Database", CountingDatabase(runtime.database, counter))
        reader = Reader(services, Stores.create(counting, services.redis), dataset.viewer_id)
        # mongomock keeps the whole database in this process's heap; a full collection walks
        # it every ~20 ranked requests (a ~35 ms pause, measured) that a server whose MongoDB
        # is elsewhere does not pay. Frozen objects are left out of collections.
        gc.collect()
        gc.freeze()
        try:
            return [
                await measure(reader, services.redis, counter, dataset, order, requests)
                for order in ORDERS
            ]
        finally:
            gc.unfreeze()


async def benchmark(scenarios: list[Scenario], requests: int) -> list[Measurement]:
    with redis_server() as redis_url:
        results = []
        for scenario in scenarios:
            results += await run_scenario(redis_url, scenario, requests)
        return results


def report(results: list[Measurement]) -> None:
    console = Console(width=CONSOLE_WIDTH)
    table = Table(
        title=f"Feed, first page of {PAGE_SIZE} (one core, sequential requests, caches warm)"
    )
    columns = ("following", "order", "posts", "merged", "Mongo round trips", "Redis commands",
               "p50 ms", "p99 ms")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("following", "order") else "right")
    for m in results:
        table.add_row(
            m.scenario.name,
            m.order,
            str(m.edges),
            str(m.merged),
            str(m.mongo_round_trips),
            str(m.redis_commands),
            f"{m.p50_ms:.2f}",
            f"{m.p99_ms:.2f}",
        )
    console.print(table)
    ratios = Table(title="p50 against the smallest scenario (1.00x = flat)")
    for column in ("following", *ORDERS):
        ratios.add_column(column, justify="right")
    base = {m.order: m.p50_ms for m in results if m.scenario == results[0].scenario}
    for scenario in dict.fromkeys(m.scenario for m in results):
        row = {m.order: m.p50_ms for m in results if m.scenario == scenario}
        ratios.add_row(scenario.name, *(f"{row[order] / base[order]:.2f}x" for order in ORDERS))
    console.print(ratios)


def main(
    following: Annotated[
        list[int], typer.Option(help="Accounts the viewer follows.")
    ] = DEFAULT_FOLLOWING,
    requests: Annotated[int, typer.Option(help="Measured requests per scenario and order.")] = 200,
    many_large: Annotated[
        bool, typer.Option(help="Also run 1,000 follows with LARGE_ACCOUNTS_LIMIT large accounts.")
    ] = True,
) -> None:
    scenarios = [Scenario(count) for count in following]
    if many_large:
        scenarios.append(Scenario(1_000, large_in_system=LARGE_ACCOUNTS_LIMIT))
    report(asyncio.run(benchmark(scenarios, requests)))


if __name__ == "__main__":
    typer.run(main)
