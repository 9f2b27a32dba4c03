"""The interaction log: buffered in memory, written in batches off the request's path,
bounded (what does not fit is dropped and counted), and feeding the affinity counters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import cast

import fakeredis
import pytest

from bench.roundtrips import CountingDatabase, RoundTrips
from storage.affinity import AffinityKind, AffinityStore
from storage.interaction import Interaction, InteractionKind, InteractionLog, InteractionStore
from storage.mongo import Database, open_database

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    async with open_database(None, "interactions_test") as database:
        yield database


def like(viewer: int, author: int = 2, post: int = 10) -> Interaction:
    return Interaction(
        InteractionKind.LIKE, viewer, author, NOW, post_id=post, hashtags=("sunset",)
    )


def impression(viewer: int, position: int) -> Interaction:
    return Interaction(
        InteractionKind.IMPRESSION, viewer, 2, NOW, post_id=10, surface="feed", position=position
    )


def make_log(
    database: Database, counter: RoundTrips, *, capacity: int = 100, batch: int = 10
) -> tuple[InteractionLog, AffinityStore]:
    counting = cast("Database", CountingDatabase(database, counter))
    affinity = AffinityStore(fakeredis.FakeAsyncRedis())
    store = InteractionStore(counting["interactions"])
    return InteractionLog(store, affinity, capacity=capacity, batch=batch), affinity


async def test_recording_writes_nothing_until_a_flush(database: Database) -> None:
    counter = RoundTrips()
    log, _ = make_log(database, counter)

    log.record(*(impression(1, n) for n in range(5)))

    assert counter.total == 0
    assert log.buffered == 5


async def test_a_flush_writes_in_batches_of_insert_many(database: Database) -> None:
    counter = RoundTrips()
    log, _ = make_log(database, counter, batch=10)
    log.record(*(impression(1, n) for n in range(25)))

    await log.flush()

    assert counter.by_collection == {"interactions": 3}  # 10 + 10 + 5
    assert await database["interactions"].count_documents({}) == 25
    assert log.written == 25


async def test_a_full_buffer_drops_and_counts_what_does_not_fit(database: Database) -> None:
    log, _ = make_log(database, RoundTrips(), capacity=8)

    log.record(*(impression(1, n) for n in range(12)))

    assert log.buffered == 8
    assert log.dropped == 4


async def test_an_impression_keeps_its_surface_and_position(database: Database) -> None:
    log, _ = make_log(database, RoundTrips())
    log.record(impression(7, 3))

    await log.flush()

    stored = await database["interactions"].find_one({"viewer_id": 7})
    assert stored is not None
    assert (stored["kind"], stored["surface"], stored["position"]) == ("impression", "feed", 3)


async def test_a_flushed_like_counts_towards_the_viewers_affinity(database: Database) -> None:
    log, affinity = make_log(database, RoundTrips())
    log.record(like(1, author=2))

    await log.flush()

    window = await affinity.window(1, [2], ["sunset"], NOW)
    assert window.author(AffinityKind.LIKE, 2) == pytest.approx(1.0)
    assert window.hashtags(["sunset"]) == pytest.approx(1.0)
    assert window.author_engagements[2] == pytest.approx(1.0)


async def test_a_failed_flush_counts_its_batch_as_lost_and_keeps_no_memory() -> None:
    broken = cast("InteractionStore", BrokenStore())
    failing = InteractionLog(broken, AffinityStore(fakeredis.FakeAsyncRedis()))
    failing.record(impression(1, 0), impression(1, 1))

    await failing.flush()

    assert failing.failed == 2
    assert failing.buffered == 0


class BrokenStore:
    """A MongoDB that refuses writes."""

    async def insert_many(self, interactions: object) -> None:
        raise ConnectionError("MongoDB is down")


async def test_the_background_task_flushes_without_being_asked(database: Database) -> None:
    counter = RoundTrips()
    counting = cast("Database", CountingDatabase(database, counter))
    log = InteractionLog(
        InteractionStore(counting["interactions"]),
        AffinityStore(fakeredis.FakeAsyncRedis()),
        interval_seconds=0.01,
    )

    async with log.running():
        log.record(impression(1, 0))
        for _ in range(200):
            if log.written:
                break
            await asyncio.sleep(0.01)

        assert log.written == 1


async def test_leaving_the_running_block_flushes_what_is_left(database: Database) -> None:
    log, _ = make_log(database, RoundTrips())

    async with log.running():
        log.record(impression(1, 0), impression(1, 1))

    assert await database["interactions"].count_documents({}) == 2
