"""Gathering a window's features costs a constant number of round trips, whatever its size:
MongoDB through the request's batched loaders, Redis in one pipeline for the affinity
counters of every author and hashtag of the window."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any, cast

from redis.asyncio import Connection, Redis

from app.services import Runtime
from bench.roundtrips import CountingDatabase, RoundTrips
from resolvers.context import Context
from resolvers.ranking import rank_posts
from storage.mongo import Database
from storage.post import PostRecord
from storage.ranked_window import Surface
from storage.stores import Stores
from tests.conftest import insert_user

SENT = Counter[str]()


class CountingConnection(Connection):
    """Counts what it sends to Redis: one send is one round trip (a pipeline sends once)."""

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        SENT["sends"] += 1
        await super().send_packed_command(command, check_health)


async def window_of(runtime: Runtime, size: int) -> tuple[int, list[PostRecord]]:
    """A viewer and `size` posts, each by an author of its own (the worst case for
    per-author reads), with hashtags of their own."""
    services = runtime.services
    viewer = await insert_user(services)
    posts = []
    for n in range(size):
        author = await insert_user(services)
        post = PostRecord(
            id=services.ids.next_id(), author_id=author.id, caption="", hashtags=(f"tag{n}",),
            mention_ids=(), media=(), like_count=n, comment_count=0, preview_comments=(),
            created_at=services.clock() - timedelta(minutes=n),
        )  # fmt: skip
        await services.stores.posts.insert(post, client_mutation_id=None)
        posts.append(post)
    return viewer.id, posts


async def round_trips_to_rank(
    runtime: Runtime, redis_url: str, viewer_id: int, posts: list[PostRecord]
) -> tuple[int, int]:
    """(MongoDB, Redis) round trips of ranking the window for the viewer, loaders cold."""
    mongo = RoundTrips()
    redis = Redis.from_url(redis_url, connection_class=CountingConnection)
    try:
        database = cast("Database", CountingDatabase(runtime.database, mongo))
        stores = Stores.create(database, redis)
        services = dataclasses.replace(runtime.services, stores=stores, redis=redis)
        viewer = (await stores.users.find_by_ids([viewer_id]))[viewer_id]
        await redis.flushdb()  # cold caches: every author is read from MongoDB
        mongo.reset()
        SENT.clear()
        ranked = await rank_posts(Context.for_viewer(services, viewer), viewer, Surface.FEED, posts)
        assert sorted(ranked) == sorted(post.id for post in posts)
        return mongo.total, SENT["sends"]
    finally:
        await redis.aclose()


async def test_a_window_of_200_costs_the_round_trips_of_a_window_of_50(
    runtime: Runtime, redis_url: str
) -> None:
    small = await round_trips_to_rank(runtime, redis_url, *await window_of(runtime, 50))
    large = await round_trips_to_rank(runtime, redis_url, *await window_of(runtime, 200))

    assert large == small
    assert small[0] <= 3 and small[1] <= 8
