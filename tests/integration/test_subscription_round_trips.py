"""One event delivered to many subscribers in one process costs the same round trips as one
delivered to a single subscriber: the entity is loaded once and every receiver's
permission check (blocks both ways, follow states) is one batched read, whatever the
number of receivers (loaders/shared.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from redis.asyncio.connection import AbstractConnection

from app.services import Runtime, open_runtime
from bench.roundtrips import RoundTrips, counted_services
from resolvers.context import Context, Services
from resolvers.ids import to_global_id
from schema import build_schema
from storage.follow import FollowState
from storage.post import PostRecord
from storage.user import UserRecord
from subscriptions.channels import post_channel
from subscriptions.events import PostLiked
from tests.conftest import insert_post, insert_user, make_settings
from tests.contract import operation_source
from tests.servers import RedisProcess
from tests.ws import until

SCHEMA = build_schema(mask_errors=False)
MANY_RECEIVERS = 25
GIVE_UP_SECONDS = 10.0


@pytest.fixture
async def runtime(redis_process: RedisProcess) -> AsyncIterator[Runtime]:
    """On a redis-server of its own, so that the commands counted on it are this test's."""
    async with open_runtime(make_settings(redis_process.url)) as runtime:
        yield runtime


async def no_close(code: int, reason: str) -> None:
    raise AssertionError(f"closed the socket: {code} {reason}")


async def private_post(services: Services, followers: list[UserRecord]) -> PostRecord:
    """A post by a private account that every one of `followers` follows."""
    author = await insert_user(services)
    await services.stores.users.update_profile(author.id, {"is_private": True})
    for follower in followers:
        await services.stores.follows.insert(
            services.ids.next_id(), follower.id, author.id, FollowState.FOLLOWING
        )
    return await insert_post(services, author.id)


class RedisRoundTrips:
    """Counts what redis-py sends to one redis-server: one call per command, or per pipeline
    (one round trip). Other servers' commands are not counted: the apps of other tests in
    this process (a worker polling its job stream) talk to servers of their own."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, port: int) -> None:
        self.count = 0
        send = AbstractConnection.send_packed_command

        async def counting(connection: AbstractConnection, *args: Any, **kwargs: Any) -> None:
            if getattr(connection, "port", None) == port:
                self.count += 1
            await send(connection, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)


@pytest.fixture
def redis_round_trips(
    monkeypatch: pytest.MonkeyPatch, redis_process: RedisProcess
) -> RedisRoundTrips:
    return RedisRoundTrips(monkeypatch, redis_process.port)


async def deliver_one_like(
    runtime: Runtime, redis_round_trips: RedisRoundTrips, receivers: int
) -> tuple[RoundTrips, int]:
    """MongoDB round trips and Redis commands this process spends on one like pushed to
    `receivers` subscribers, each a different viewer, with a cold cache."""
    services = runtime.services
    viewers = [await insert_user(services) for _ in range(receivers)]
    post = await private_post(services, viewers)
    liker = await insert_user(services)
    counter = RoundTrips()
    counted = counted_services(runtime, counter)
    streams: list[AsyncIterator[Any]] = []
    for viewer in viewers:
        context = Context.for_viewer(counted, viewer)
        context.close_socket = no_close  # as the WebSocket handler sets it
        stream = await SCHEMA.subscribe(
            operation_source("PostLiked"),
            variable_values={"postId": to_global_id("Post", post.id)},
            context_value=context,
        )
        streams.append(cast("AsyncIterator[Any]", stream))
    firsts = [asyncio.ensure_future(anext(stream)) for stream in streams]
    await until(lambda: services.deliveries.receiver_count(post_channel(post.id)) == receivers)
    await services.stores.likes.insert(services.ids.next_id(), liker.id, post.id)
    await services.stores.posts.increment_counts(post.id, like=1)
    await services.redis.flushdb()  # cold: every read below goes to MongoDB
    counter.reset()
    redis_before = redis_round_trips.count

    await services.bus.publish(PostLiked(post_id=post.id, actor_id=liker.id))
    results = await asyncio.wait_for(asyncio.gather(*firsts), GIVE_UP_SECONDS)

    redis_used = redis_round_trips.count - redis_before
    for opened in streams:
        await cast("Any", opened).aclose()
    assert [result.errors for result in results] == [None] * receivers
    assert {result.data["postLiked"]["post"]["likeCount"] for result in results} == {1}
    return counter, redis_used


async def test_one_event_for_many_subscribers_costs_the_reads_of_one(
    runtime: Runtime, redis_round_trips: RedisRoundTrips
) -> None:
    # Given the reads one like costs when one subscriber receives it (after a first like,
    # which also loads the cache's script into Redis)
    await deliver_one_like(runtime, redis_round_trips, 1)
    alone, alone_redis = await deliver_one_like(runtime, redis_round_trips, 1)
    # When a like reaches many subscribers, each another viewer of a private account's post
    many, many_redis = await deliver_one_like(runtime, redis_round_trips, MANY_RECEIVERS)
    # Then it costs the same, and as many Redis commands: the post and the liker; the post's
    # author; the block lists of the author and of the liker, whoever the receivers are;
    # the follows of the author; in Redis, a cache lookup and a fill for each of those reads
    assert dict(many.by_collection) == dict(alone.by_collection)
    assert many.by_collection == {"posts": 1, "users": 2, "blocks": 2, "follows": 1}
    assert many_redis == alone_redis
    assert many_redis > 0  # the count counts
