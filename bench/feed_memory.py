"""Redis memory per home-feed entry, for the two encodings a feed can have.

A sorted set of up to `zset-max-listpack-entries` members (128 by default) is one compact
listpack; one more member converts it to a skiplist plus a hash table, several times larger
per entry. Feeds are built the way the app builds them (`FeedStore.rebuild`: the members and
an expiry), with post ids of realistic length (19 digits, zero-padded to 20).

Run: `.venv/bin/python -m bench.feed_memory` (starts its own redis-server).
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storage.feed import FEED_MAX_ITEMS, FeedStore, feed_key
from storage.redis import Redis, open_redis
from tests.servers import redis_server

FEEDS_PER_SIZE = 1_000  # enough keys that per-key overhead and allocator rounding average out
FIRST_POST_ID = 1_500_000_000_000_000_000  # a 19-digit id, as time-ordered 64-bit ids are now
INACTIVE_AFTER = timedelta(days=30)  # FEED_INACTIVE_DAYS: every feed carries an expiry
REBUILDS_IN_FLIGHT = 50  # concurrent rebuilds while filling: fast, without one huge pipeline
MILLION = 1_000_000


@dataclasses.dataclass(frozen=True)
class MemoryRow:
    entries: int  # per feed
    feeds: int
    encoding: str
    usage_per_key: float  # MEMORY USAGE, bytes, averaged over the feeds
    used_memory_delta: int  # INFO memory used_memory after filling minus before

    @property
    def usage_per_entry(self) -> float:
        return self.usage_per_key / self.entries

    @property
    def delta_per_entry(self) -> float:
        return self.used_memory_delta / (self.feeds * self.entries)

    @property
    def gib_per_million_feeds(self) -> float:
        return self.used_memory_delta / self.feeds * MILLION / 2**30


def feed_sizes(listpack_max: int) -> list[int]:
    """The largest listpack feed, the smallest skiplist feed, and a full feed."""
    return [listpack_max, listpack_max + 1, FEED_MAX_ITEMS]


async def listpack_max_entries(redis: Redis) -> int:
    config = await redis.config_get("zset-max-listpack-entries")
    return int(config["zset-max-listpack-entries"])


async def used_memory(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def fill(feeds: FeedStore, count: int, entries: int) -> None:
    """`count` feeds of `entries` distinct post ids each."""
    for start in range(0, count, REBUILDS_IN_FLIGHT):
        await asyncio.gather(
            *(
                feeds.rebuild(
                    user_id,
                    range(
                        FIRST_POST_ID + user_id * entries, FIRST_POST_ID + (user_id + 1) * entries
                    ),
                )
                for user_id in range(start, min(start + REBUILDS_IN_FLIGHT, count))
            )
        )


async def measure(redis: Redis, count: int, entries: int) -> MemoryRow:
    await redis.flushdb()
    before = await used_memory(redis)
    await fill(FeedStore(redis, INACTIVE_AFTER), count, entries)
    delta = await used_memory(redis) - before
    usages = [
        int(await redis.memory_usage(feed_key(user_id), samples=0) or 0) for user_id in range(count)
    ]
    encoding = await redis.object("encoding", feed_key(0))
    return MemoryRow(
        entries=entries,
        feeds=count,
        encoding=encoding.decode() if isinstance(encoding, bytes) else str(encoding),
        usage_per_key=sum(usages) / count,
        used_memory_delta=delta,
    )


async def benchmark(count: int) -> list[MemoryRow]:
    with redis_server() as url:
        async with open_redis(url) as redis:
            sizes = feed_sizes(await listpack_max_entries(redis))
            return [await measure(redis, count, entries) for entries in sizes]


def report(rows: list[MemoryRow]) -> None:
    table = Table(title="Redis memory per home-feed entry (redis-server, jemalloc)")
    columns = (
        "entries / feed",
        "feeds",
        "encoding",
        "MEMORY USAGE / key",
        "bytes / entry",
        "used_memory Δ / entry",
        "GiB / 1M such feeds",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "encoding" else "right")
    for row in rows:
        table.add_row(
            str(row.entries),
            str(row.feeds),
            row.encoding,
            f"{row.usage_per_key:,.0f}",
            f"{row.usage_per_entry:.1f}",
            f"{row.delta_per_entry:.1f}",
            f"{row.gib_per_million_feeds:.2f}",
        )
    Console().print(table)
    compact, converted = rows[0], rows[1]
    Console().print(
        f"One entry past the listpack limit: {converted.usage_per_entry / compact.usage_per_entry:.1f}x"
        " the bytes per entry."
    )


def main(
    feeds: Annotated[int, typer.Option(help="Feeds filled per size.")] = FEEDS_PER_SIZE,
) -> None:
    report(asyncio.run(benchmark(feeds)))


if __name__ == "__main__":
    typer.run(main)
