"""The fan-out benchmark: one post pushed into the home feeds of 1k, 10k and 100k followers.

Three ways of doing the Redis part, in the same run, on the same feeds:

- **lua**: what the app runs, `FeedStore.push` (a Lua script per FANOUT_BATCH feeds: for each
  feed that exists, ZADD the post and trim it to FEED_MAX_ITEMS).
- **pipelined**: ZADD + ZREMRANGEBYRANK per follower, FANOUT_BATCH followers per pipeline
  (what the script replaces; it cannot skip feeds that do not exist, so it would recreate the
  feeds of inactive users).
- **unpipelined**: the baseline, the same two commands per follower, each awaited.

Then the whole job, `jobs.fanout.run_fanout_job`, which also loads the post and pages the
followers from MongoDB (mongomock here: its queries scan every document, so those numbers
say little about a real MongoDB, and are shown apart).

Every follower's feed exists and is full (FEED_MAX_ITEMS entries) before the first push, so
every push also trims one entry: the steady state of an active follower. Commands are
counted by Redis itself (INFO commandstats deltas, which include the commands a script runs).

Run: `.venv/bin/python -m bench.fanout` (starts its own redis-server; MongoDB is mongomock,
or PICTOGRAPH_TEST_MONGODB_URL). `--listpack-entries 1024` repeats it with full feeds in
Redis' compact encoding (see bench/feed_memory.py; the limit must exceed FEED_MAX_ITEMS,
since a push holds one entry more until its trim, and a listpack that outgrows the limit
becomes a skiplist for good). The 100k feeds take ~10 GB of Redis
memory (2 GB compact) while it runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import math
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from app.services import open_runtime
from app.settings import Settings
from jobs.context import JobServices
from jobs.fanout import FOLLOWERS_PAGE, run_fanout_job
from resolvers.context import Services
from storage.fanout_queue import FanoutJob, FanoutOp
from storage.feed import FANOUT_BATCH, FEED_MAX_ITEMS, FeedStore, feed_key, member
from storage.follow import FollowState
from storage.mongo import Database
from storage.post import MediaRecord, PostRecord, RenditionRecord
from storage.redis import Redis
from tests.servers import redis_server

DEFAULT_SIZES = [1_000, 10_000, 100_000]  # the follower counts the issue names
TARGET_SECONDS = {10_000: 0.1, 100_000: 1.0}  # issue 4: wall time of one fan-out
REPETITIONS = 7  # per size and way: medians of several runs on a noisy machine
BASELINE_REPETITIONS = 3  # the unpipelined baseline is 30-50x slower: fewer runs
# Above this estimated time the baseline is extrapolated from the largest size measured.
BASELINE_LIMIT_SECONDS = 60.0
RUN_JOB_SIZES = [1_000, 10_000]  # mongomock scans every follow per page: 100k takes minutes
RUN_JOB_REPETITIONS = 3
FIRST_POST_ID = 1_500_000_000_000_000_000  # any 64-bit id: members are padded to 20 digits
TEMPLATE_USER_ID = -1  # the feed copied into every follower's; no user has a negative id
COPIES_PER_PIPELINE = 1_000  # feeds created per round trip while setting up
CONSOLE_WIDTH = 160  # wide enough for every column, also when the output is redirected
UNCOUNTED_COMMANDS = frozenset({"info"})  # the benchmark's own, sent between measurements

ResultT = TypeVar("ResultT")


# --- counting Redis commands -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CommandStats:
    """Commands Redis executed (client commands and those run inside scripts) and the
    microseconds it spent on them, by command name."""

    calls: Counter[str]
    usec: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def __sub__(self, other: CommandStats) -> CommandStats:
        calls, usec = Counter(self.calls), Counter(self.usec)
        calls.subtract(other.calls)
        usec.subtract(other.usec)
        return CommandStats(+calls, +usec)  # unary + drops the commands that did not run


async def command_stats(redis: Redis) -> CommandStats:
    info = await redis.info("commandstats")
    calls: Counter[str] = Counter()
    usec: Counter[str] = Counter()
    for key, stats in info.items():
        name = key.removeprefix("cmdstat_")
        if name not in UNCOUNTED_COMMANDS:
            calls[name] = int(stats["calls"])
            usec[name] = int(stats["usec"])
    return CommandStats(calls, usec)


async def timed(
    redis: Redis, action: Callable[[], Awaitable[ResultT]]
) -> tuple[ResultT, float, CommandStats]:
    """What `action` returned, its wall seconds, and the Redis commands it caused."""
    before = await command_stats(redis)
    gc.collect()  # a collection inside the timed part would be charged to the way measured
    started = time.perf_counter()
    result = await action()
    seconds = time.perf_counter() - started
    return result, seconds, await command_stats(redis) - before


# --- the three ways ------------------------------------------------------------------------


async def push_lua(feeds: FeedStore, follower_ids: range, post_id: int) -> int:
    await feeds.push(follower_ids, post_id)
    return math.ceil(len(follower_ids) / FANOUT_BATCH)  # one EVALSHA per batch


async def push_pipelined(redis: Redis, follower_ids: range, post_id: int) -> int:
    round_trips = 0
    for start in range(0, len(follower_ids), FANOUT_BATCH):
        async with redis.pipeline(transaction=False) as pipe:
            for follower_id in follower_ids[start : start + FANOUT_BATCH]:
                pipe.zadd(feed_key(follower_id), {member(post_id): 0})
                pipe.zremrangebyrank(feed_key(follower_id), 0, -(FEED_MAX_ITEMS + 1))
            await pipe.execute()
        round_trips += 1
    return round_trips


async def push_unpipelined(redis: Redis, follower_ids: range, post_id: int) -> int:
    for follower_id in follower_ids:
        await redis.zadd(feed_key(follower_id), {member(post_id): 0})
        await redis.zremrangebyrank(feed_key(follower_id), 0, -(FEED_MAX_ITEMS + 1))
    return 2 * len(follower_ids)


Way = Callable[[range, int], Awaitable[int]]


def ways(redis: Redis, feeds: FeedStore) -> dict[str, Way]:
    return {
        "lua": lambda ids, post_id: push_lua(feeds, ids, post_id),
        "pipelined": lambda ids, post_id: push_pipelined(redis, ids, post_id),
        "unpipelined": lambda ids, post_id: push_unpipelined(redis, ids, post_id),
    }


# --- measuring -----------------------------------------------------------------------------


@dataclasses.dataclass
class Measurement:
    followers: int
    way: str
    seconds: list[float]
    round_trips: int
    commands: int
    script_usec_per_call: float | None  # how long one script call keeps Redis busy
    extrapolated_from: int | None = None  # the size whose per-follower time was scaled

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds)


class PostIds:
    """Ids for the pushed posts: newer than every feed entry, a new one for every push."""

    def __init__(self, start: int) -> None:
        self._next = start

    def __call__(self) -> int:
        self._next += 1
        return self._next


async def create_full_feeds(redis: Redis, feeds: FeedStore, count: int) -> None:
    """`count` feeds of FEED_MAX_ITEMS entries: one built as the app builds feeds, then
    copied server-side (COPY keeps the encoding and the expiry)."""
    template = TEMPLATE_USER_ID
    await feeds.rebuild(template, range(FIRST_POST_ID, FIRST_POST_ID + FEED_MAX_ITEMS))
    for start in range(0, count, COPIES_PER_PIPELINE):
        async with redis.pipeline(transaction=False) as pipe:
            for user_id in range(start, min(start + COPIES_PER_PIPELINE, count)):
                pipe.copy(feed_key(template), feed_key(user_id), replace=True)
            await pipe.execute()
    await redis.delete(feed_key(template))


async def measure_way(
    redis: Redis, way: Way, name: str, followers: int, repetitions: int, post_ids: PostIds
) -> Measurement:
    follower_ids = range(followers)
    await way(follower_ids[:1], post_ids())  # warm-up: loads the script, opens connections
    seconds: list[float] = []
    stats = CommandStats(Counter(), Counter())
    round_trips = 0
    for _ in range(repetitions):
        round_trips, elapsed, stats = await timed(redis, partial(way, follower_ids, post_ids()))
        seconds.append(elapsed)
    evalsha = stats.calls["evalsha"]
    return Measurement(
        followers=followers,
        way=name,
        seconds=seconds,
        round_trips=round_trips,
        commands=stats.total,
        script_usec_per_call=stats.usec["evalsha"] / evalsha if evalsha else None,
    )


def extrapolated(measured: Measurement, followers: int) -> Measurement:
    scale = followers / measured.followers
    return Measurement(
        followers=followers,
        way=measured.way,
        seconds=[measured.p50 * scale],
        round_trips=round(measured.round_trips * scale),
        commands=round(measured.commands * scale),
        script_usec_per_call=None,
        extrapolated_from=measured.followers,
    )


async def measure_baseline(
    redis: Redis, way: Way, followers: int, previous: Measurement | None, post_ids: PostIds
) -> Measurement:
    """The unpipelined baseline, measured unless it would run past BASELINE_LIMIT_SECONDS."""
    if previous is not None:
        estimate = previous.p50 * followers / previous.followers
        if estimate > BASELINE_LIMIT_SECONDS:
            return extrapolated(previous, followers)
    return await measure_way(redis, way, "unpipelined", followers, BASELINE_REPETITIONS, post_ids)


async def measure_redis_part(
    redis: Redis, feeds: FeedStore, sizes: list[int], repetitions: int
) -> list[Measurement]:
    await create_full_feeds(redis, feeds, max(sizes))
    by_name = ways(redis, feeds)
    post_ids = PostIds(FIRST_POST_ID + 10 * FEED_MAX_ITEMS)
    results: list[Measurement] = []
    baseline: Measurement | None = None
    for followers in sorted(sizes):
        for name in ("lua", "pipelined"):
            results.append(
                await measure_way(redis, by_name[name], name, followers, repetitions, post_ids)
            )
        baseline = await measure_baseline(
            redis, by_name["unpipelined"], followers, baseline, post_ids
        )
        results.append(baseline)
    return results


# --- the whole job, with MongoDB -----------------------------------------------------------


@dataclasses.dataclass
class JobMeasurement:
    followers: int
    job_seconds: list[float]  # run_fanout_job: the post, the large-account list, paging, pushing
    paging_seconds: list[float]  # the follower pages alone, read from MongoDB
    redis_commands: int

    @property
    def job_p50(self) -> float:
        return statistics.median(self.job_seconds)

    @property
    def paging_p50(self) -> float:
        return statistics.median(self.paging_seconds)


async def add_author(
    services: Services, database: Database, author_id: int, followers: int
) -> None:
    """An author followed by users 0..followers-1, bulk-loaded the way a restore would be:
    without the indexes, which are rebuilt after (mongomock checks a unique index by
    scanning the collection, so inserting 10k follows one by one takes minutes)."""
    stores, now = services.stores, services.clock()
    await stores.users.insert(
        user_id=author_id,
        username=f"author{author_id}",
        email=f"author{author_id}@example.com",
        password_hash="unused",
        created_at=now,
    )
    await stores.users.increment_counts(author_id, follower=followers)
    collection = database["follows"]
    await collection.drop_indexes()
    await collection.insert_many(
        [
            {
                "_id": author_id * 1_000_000 + follower_id + 1,  # increasing: the page key
                "follower_id": follower_id,
                "followee_id": author_id,
                "state": FollowState.FOLLOWING.value,
            }
            for follower_id in range(followers)
        ]
    )
    await services.stores.follows.create_indexes()


async def new_post(services: Services, author_id: int, post_id: int) -> None:
    image = MediaRecord(post_id, "IMAGE", 1080, 1080, (RenditionRecord(1080, 1080, "m.jpg"),))
    await services.stores.posts.insert(
        PostRecord(post_id, author_id, "", (), (), (image,), 0, 0, (), services.clock()),
        client_mutation_id=None,
    )


async def page_followers(services: Services, author_id: int) -> int:
    """The follower pages run_fanout_job reads, on their own: how much of it is MongoDB."""
    after_id, seen = 0, 0
    while rows := await services.stores.follows.follower_ids(
        author_id, after_id=after_id, limit=FOLLOWERS_PAGE
    ):
        after_id, seen = rows[-1][0], seen + len(rows)
    return seen


async def measure_job(
    services: Services, database: Database, followers: int, post_ids: PostIds
) -> JobMeasurement:
    author_id = 1_000_000 + followers  # distinct from every follower id
    await add_author(services, database, author_id, followers)
    job_seconds, paging_seconds = [], []
    stats = CommandStats(Counter(), Counter())
    for _ in range(RUN_JOB_REPETITIONS):
        post_id = post_ids()
        await new_post(services, author_id, post_id)
        job = FanoutJob(FanoutOp.PUSH, post_id, author_id)
        jobs = JobServices(
            services.stores,
            services.fanout_max_followers,
            services.ids,
            services.bus,
            services.objects,
            services.decode_slots,  # fan-out only: no transcode runs
        )
        _, elapsed, stats = await timed(services.redis, partial(run_fanout_job, jobs, job))
        job_seconds.append(elapsed)
        started = time.perf_counter()
        assert await page_followers(services, author_id) == followers
        paging_seconds.append(time.perf_counter() - started)
    await database["follows"].delete_many({"followee_id": author_id})
    return JobMeasurement(followers, job_seconds, paging_seconds, stats.total)


# --- the run -------------------------------------------------------------------------------


@dataclasses.dataclass
class Results:
    redis_part: list[Measurement]
    jobs: list[JobMeasurement]
    feed_encoding: str  # of a follower's feed after every push: what the pushes wrote into


async def benchmark(
    sizes: list[int], repetitions: int, job_sizes: list[int], listpack_entries: int | None
) -> Results:
    with redis_server() as redis_url:
        settings = Settings.model_validate(
            {
                "redis_url": redis_url,
                "mongodb_url": os.environ.get("PICTOGRAPH_TEST_MONGODB_URL"),
                "mongodb_database": f"pictograph_bench_{uuid.uuid4().hex[:8]}",
                # Every author here is fanned out, however many followers it has.
                "fanout_max_followers": max(sizes),
            }
        )
        async with open_runtime(settings) as runtime:
            services = runtime.services
            if listpack_entries is not None:
                await services.redis.config_set("zset-max-listpack-entries", listpack_entries)
            redis_part = await measure_redis_part(
                services.redis, services.stores.feeds, sizes, repetitions
            )
            post_ids = PostIds(FIRST_POST_ID + 1_000_000)
            jobs = [
                await measure_job(services, runtime.database, size, post_ids) for size in job_sizes
            ]
            encoding = await services.redis.object("encoding", feed_key(0))
            encoding_name = encoding.decode() if isinstance(encoding, bytes) else str(encoding)
            return Results(redis_part, jobs, encoding_name)


def verdict(followers: int, seconds: float) -> str:
    target = TARGET_SECONDS.get(followers)
    if target is None:
        return "-"
    return f"≤ {target * 1000:.0f} ms: {'met' if seconds <= target else 'NOT met'}"


def report(results: Results) -> None:
    console = Console(width=CONSOLE_WIDTH)
    report_redis_part(console, results.redis_part)
    console.print(f"A follower's feed after the pushes is a {results.feed_encoding}.")
    if results.jobs:
        by_key = {(m.followers, m.way): m for m in results.redis_part}
        report_jobs(console, results.jobs, by_key)


def report_redis_part(console: Console, results: list[Measurement]) -> None:
    table = Table(title="Fan-out of one post, Redis part (feeds full: every push also trims)")
    columns = ("followers", "way", "p50 ms", "min ms", "round trips", "commands", "per follower",
               "Redis busy / script call", "target")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("way", "target") else "right")
    for m in results:
        busy = m.script_usec_per_call
        note = f" (extrapolated from {m.extrapolated_from:,})" if m.extrapolated_from else ""
        table.add_row(
            f"{m.followers:,}",
            m.way + note,
            f"{m.p50 * 1000:,.1f}",
            f"{min(m.seconds) * 1000:,.1f}",
            f"{m.round_trips:,}",
            f"{m.commands:,}",
            f"{m.commands / m.followers:.2f}",
            "-" if busy is None else f"{busy / 1000:.2f} ms",
            verdict(m.followers, m.p50) if m.way == "lua" else "",
        )
    console.print(table)
    ratios = Table(title="Ratios (p50 wall time)")
    for column in ("followers", "unpipelined / lua", "pipelined / lua"):
        ratios.add_column(column, justify="right")
    by_key = {(m.followers, m.way): m for m in results}
    for followers in sorted({m.followers for m in results}):
        lua = by_key[(followers, "lua")].p50
        slow, piped = by_key[(followers, "unpipelined")].p50, by_key[(followers, "pipelined")].p50
        ratios.add_row(f"{followers:,}", f"{slow / lua:.0f}x", f"{piped / lua:.2f}x")
    console.print(ratios)


def report_jobs(
    console: Console, jobs: list[JobMeasurement], by_key: dict[tuple[int, str], Measurement]
) -> None:
    table = Table(title="The whole job: run_fanout_job, followers paged from MongoDB (mongomock)")
    columns = ("followers", "run_fanout_job p50 ms", "follower paging p50 ms (mongomock)",
               "the rest p50 ms", "lua push alone p50 ms", "Redis commands")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for job in jobs:
        lua = by_key.get((job.followers, "lua"))
        table.add_row(
            f"{job.followers:,}",
            f"{job.job_p50 * 1000:,.1f}",
            f"{job.paging_p50 * 1000:,.1f}",
            f"{(job.job_p50 - job.paging_p50) * 1000:,.1f}",
            "-" if lua is None else f"{lua.p50 * 1000:,.1f}",
            f"{job.redis_commands:,}",
        )
    console.print(table)


def main(
    sizes: Annotated[list[int], typer.Option(help="Follower counts.")] = DEFAULT_SIZES,
    repetitions: Annotated[int, typer.Option(help="Runs per size, lua and pipelined.")] = (
        REPETITIONS
    ),
    job_sizes: Annotated[
        list[int], typer.Option(help="Follower counts for run_fanout_job (with MongoDB).")
    ] = RUN_JOB_SIZES,
    listpack_entries: Annotated[
        int | None,
        typer.Option(help="Set zset-max-listpack-entries first (1024: compact full feeds)."),
    ] = None,
) -> None:
    report(asyncio.run(benchmark(sizes, repetitions, job_sizes, listpack_entries)))


if __name__ == "__main__":
    typer.run(main)
