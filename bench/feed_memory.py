"""Redis memory per home-feed entry, for the two encodings a feed can have.

A sorted set of up to `zset-max-listpack-entries` members (128 by default) is one compact
listpack; one more member converts it to a skiplist plus a hash table, several times larger
per entry. Feeds are built the way the app builds them (`FeedStore.rebuild`: the members,
post ids zero-padded to 20 digits, and an expiry).

For comparison, the same feeds with each post id as an 8-byte big-endian member, which sorts
bytewise in numeric order as the padded digits do (so ZRANGEBYLEX paging works the same) but
is 8 bytes instead of 20. And both again with `zset-max-listpack-entries` (a server
setting) raised to COMPACT_LISTPACK_ENTRIES, so that a full feed stays a listpack.

Run: `.venv/bin/python -m bench.feed_memory` (starts its own redis-server).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bench.fanout import CONSOLE_WIDTH
from storage.feed import FEED_MAX_ITEMS, FeedStore, feed_key
from storage.redis import Redis, open_redis
from tests.servers import redis_server

FEEDS_PER_SIZE = 1_000  # enough keys that per-key overhead and allocator rounding average out
FIRST_POST_ID = 1_500_000_000_000_000_000  # any 64-bit id: members are padded to 20 digits
INACTIVE_AFTER = timedelta(days=30)  # FEED_INACTIVE_DAYS: every feed carries an expiry
REBUILDS_IN_FLIGHT = 50  # concurrent rebuilds while filling: fast, without one huge pipeline
MILLION = 1_000_000
# Above FEED_MAX_ITEMS + 1: a push holds one entry more until its trim, and a listpack that
# outgrows the limit even for that moment becomes a skiplist for good.
COMPACT_LISTPACK_ENTRIES = 1_024
ID_BYTES = 8  # a 64-bit id
PADDED = "padded decimal (FeedStore)"
BINARY = "8-byte big-endian (alternative)"
MEMBERS = (PADDED, BINARY)


@dataclasses.dataclass(frozen=True)
class MemoryRow:
    members: str  # how a post id is written as a member
    listpack_max: int  # zset-max-listpack-entries while the feeds were filled
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


LISTPACK_SETTING = "zset-max-listpack-entries"


async def listpack_max_entries(redis: Redis) -> int:
    value = (await redis.config_get(LISTPACK_SETTING))[LISTPACK_SETTING]
    assert value is not None, f"redis-server has no {LISTPACK_SETTING} (it came with 7.0)"
    return int(value)


async def used_memory(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


def post_ids(user_id: int, entries: int) -> range:
    """Distinct post ids for every feed, so no two feeds share a member."""
    return range(FIRST_POST_ID + user_id * entries, FIRST_POST_ID + (user_id + 1) * entries)


Build = Callable[[int, range], Awaitable[None]]


def padded_builder(redis: Redis) -> Build:
    return FeedStore(redis, INACTIVE_AFTER).rebuild


def binary_builder(redis: Redis) -> Build:
    """A feed of the same shape as FeedStore.rebuild's, with 8-byte members."""

    async def build(user_id: int, ids: range) -> None:
        members = {post_id.to_bytes(ID_BYTES, "big"): 0 for post_id in ids}
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zadd(feed_key(user_id), members)
            pipe.expire(feed_key(user_id), INACTIVE_AFTER)
            await pipe.execute()

    return build


async def fill(build: Build, count: int, entries: int) -> None:
    """`count` feeds of `entries` distinct post ids each."""
    for start in range(0, count, REBUILDS_IN_FLIGHT):
        batch = range(start, min(start + REBUILDS_IN_FLIGHT, count))
        await asyncio.gather(*(build(user_id, post_ids(user_id, entries)) for user_id in batch))


async def measure(redis: Redis, members: str, count: int, entries: int) -> MemoryRow:
    await redis.flushdb()
    before = await used_memory(redis)
    build = padded_builder(redis) if members == PADDED else binary_builder(redis)
    await fill(build, count, entries)
    delta = await used_memory(redis) - before
    usages = [
        int(await redis.memory_usage(feed_key(user_id), samples=0) or 0) for user_id in range(count)
    ]
    encoding = await redis.object("encoding", feed_key(0))
    return MemoryRow(
        members=members,
        listpack_max=await listpack_max_entries(redis),
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
            rows = [
                await measure(redis, members, count, entries)
                for members in MEMBERS
                for entries in sizes
            ]
            await redis.config_set(LISTPACK_SETTING, COMPACT_LISTPACK_ENTRIES)
            rows += [await measure(redis, members, count, FEED_MAX_ITEMS) for members in MEMBERS]
            return rows


def report(rows: list[MemoryRow]) -> None:
    table = Table(title="Redis memory per home-feed entry (redis-server, jemalloc)")
    columns = (
        "members",
        "listpack limit",
        "entries / feed",
        "feeds",
        "encoding",
        "MEMORY USAGE / key",
        "bytes / entry",
        "used_memory Δ / entry",
        "GiB / 1M such feeds",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("members", "encoding") else "right")
    for row in rows:
        table.add_row(
            row.members,
            str(row.listpack_max),
            str(row.entries),
            str(row.feeds),
            row.encoding,
            f"{row.usage_per_key:,.0f}",
            f"{row.usage_per_entry:.1f}",
            f"{row.delta_per_entry:.1f}",
            f"{row.gib_per_million_feeds:.2f}",
        )
    console = Console(width=CONSOLE_WIDTH)
    console.print(table)
    default_limit = rows[0].listpack_max
    for members in MEMBERS:
        compact, converted = (
            row for row in rows if row.members == members and row.entries != FEED_MAX_ITEMS
        )
        growth = converted.usage_per_entry / compact.usage_per_entry
        console.print(f"{members}: one entry past the listpack limit, {growth:.1f}x the bytes")
    full = [row for row in rows if row.entries == FEED_MAX_ITEMS]
    today = next(r for r in full if r.members == PADDED and r.listpack_max == default_limit)
    for row in full:
        share = row.used_memory_delta / today.used_memory_delta
        console.print(
            f"A full feed, {row.members}, listpack limit {row.listpack_max}: "
            f"{row.used_memory_delta / row.feeds / 1024:.1f} KiB, {share:.2f}x today's"
        )


def main(
    feeds: Annotated[int, typer.Option(help="Feeds filled per size.")] = FEEDS_PER_SIZE,
) -> None:
    report(asyncio.run(benchmark(feeds)))


if __name__ == "__main__":
    typer.run(main)
