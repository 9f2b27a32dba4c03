"""Fan-out under faults: a worker dying mid-job, and Redis going away.

The worker here runs as a task of the test's event loop, and dies by cancellation between
two batches: MongoDB is mongomock, which lives inside one process, so a worker process of
its own could not share it. Against a real MongoDB (PICTOGRAPH_TEST_MONGODB_URL) the same
protocol holds for `pictograph worker` processes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.services import Runtime, open_runtime
from app.worker import run_fanout_worker
from resolvers.context import Services
from storage.fanout_queue import GROUP, STREAM, FanoutJob, FanoutQueue
from storage.feed import FeedStore, feed_key, member
from storage.follow import FollowState
from storage.post import PostRecord
from tests.client import GraphQLClient
from tests.conftest import make_settings
from tests.media import jpeg
from tests.servers import RedisProcess, app_server, free_port

FOLLOWERS = 2_500  # three pages of FOLLOWERS_PAGE: room to die between two of them
CLAIM_IDLE_MS = 50  # how soon the second worker may take over the dead one's job


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    with tempfile.TemporaryDirectory() as directory:
        server = RedisProcess(directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
async def runtime(redis_process: RedisProcess) -> AsyncIterator[Runtime]:
    async with open_runtime(make_settings(redis_process.url)) as runtime:
        yield runtime


class DyingFeedStore(FeedStore):
    """Writes one batch of feeds, then dies as a killed worker would."""

    def __init__(self, feeds: FeedStore, died: asyncio.Event) -> None:
        self.__dict__.update(feeds.__dict__)
        self._died = died

    async def push(self, user_ids: Iterable[int], post_id: int) -> int:
        if self._died.is_set():
            await asyncio.sleep(3600)  # dead: never comes back
        await super().push(user_ids, post_id)
        self._died.set()
        raise asyncio.CancelledError


async def author_with_followers(services: Services) -> tuple[int, list[int]]:
    stores, ids = services.stores, services.ids
    author = ids.next_id()
    followers = [ids.next_id() for _ in range(FOLLOWERS)]
    await stores.users.insert(
        user_id=author, username=f"a{author}", email=f"{author}@x.io", password_hash="-",
        created_at=services.clock(),
    )  # fmt: skip
    for follower in followers:
        await stores.follows.insert(ids.next_id(), follower, author, FollowState.FOLLOWING)
        await stores.feeds.rebuild(follower, [])  # every follower read their feed lately
    return author, followers


def with_queue(services: Services, runtime: Runtime, feeds: FeedStore | None = None) -> Services:
    queue = FanoutQueue(services.redis, runtime.database["outbox"], claim_idle_ms=CLAIM_IDLE_MS)
    return dataclasses.replace(
        services,
        stores=dataclasses.replace(
            services.stores, fanout=queue, feeds=feeds or services.stores.feeds
        ),
    )


async def test_a_job_left_by_a_dead_worker_is_redone_without_loss_or_duplicates(
    runtime: Runtime,
) -> None:
    services = with_queue(runtime.services, runtime)
    author, followers = await author_with_followers(services)
    post_id = services.ids.next_id()
    await services.stores.posts.insert(
        empty_post(services, author, post_id), client_mutation_id=None
    )
    await services.stores.fanout.ensure_group()
    await services.stores.fanout.enqueue(FanoutJob("push", post_id, author), now=services.clock())
    died = asyncio.Event()
    dying = with_queue(services, runtime, feeds=DyingFeedStore(services.stores.feeds, died))
    first = asyncio.create_task(run_fanout_worker(dying, "first", asyncio.Event()))
    await asyncio.wait_for(died.wait(), timeout=10)
    first.cancel()
    assert await _feeds_with(services, followers, post_id) < len(followers)  # died mid-job

    stop = asyncio.Event()
    second = asyncio.create_task(run_fanout_worker(services, "second", stop))
    await _until_no_job_is_pending(services)
    stop.set()
    await second

    assert await _feeds_with(services, followers, post_id) == len(followers)
    for follower in followers:  # and no feed holds it twice
        entries: list[Any] = await services.redis.zrange(feed_key(follower), 0, -1)
        assert entries.count(member(post_id).encode()) == 1, follower


async def test_a_post_made_while_redis_is_down_is_fanned_out_when_it_is_back(
    redis_process: RedisProcess, tmp_path: object
) -> None:
    settings = make_settings(redis_process.url, port=free_port(), fanout_in_server=True)
    app = create_app(settings)
    async with (
        app_server(app, settings.port) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        graphql = GraphQLClient(http)
        author, reader = await graphql.sign_up(), await graphql.sign_up()
        await graphql.data(
            "mutation ($id: ID!) { followUser(userId: $id) { state } }",
            {"id": author.id},
            token=reader.token,
        )
        upload_id = await graphql.upload(author, jpeg(64, 64))
        redis_process.stop()

        created = await graphql.data(
            "mutation ($ids: [ID!]!) { createPost(input: {uploadIds: $ids}) { post { id } errors { code } } }",
            {"ids": [upload_id]},
            token=author.token,
        )
        post_id = created["createPost"]["post"]["id"]
        for order in ("CHRONOLOGICAL", "RANKED"):
            page = await graphql.data(
                "query ($o: FeedOrder) { feed(order: $o) { edges { node { id } } } }",
                {"o": order},
                token=reader.token,
            )
            assert [e["node"]["id"] for e in page["feed"]["edges"]] == [post_id]
        outbox = app.state.runtime.database["outbox"]
        assert await outbox.count_documents({}) == 1  # the job waits in MongoDB

        redis_process.start()
        for _ in range(200):
            if await outbox.count_documents({}) == 0:
                break
            await asyncio.sleep(0.05)
        assert await outbox.count_documents({}) == 0  # relayed to the stream and done


def empty_post(services: Services, author: int, post_id: int) -> PostRecord:
    return PostRecord(
        id=post_id, author_id=author, caption="", hashtags=(), mention_ids=(), media=(),
        like_count=0, comment_count=0, preview_comments=(), created_at=services.clock(),
    )  # fmt: skip


async def _feeds_with(services: Services, followers: list[int], post_id: int) -> int:
    async with services.redis.pipeline(transaction=False) as pipe:
        for follower in followers:
            pipe.zscore(feed_key(follower), member(post_id))
        scores = await pipe.execute()
    return sum(score is not None for score in scores)


async def _until_no_job_is_pending(services: Services) -> None:
    for _ in range(400):
        pending = await services.redis.xpending(STREAM, GROUP)
        length = await services.redis.xlen(STREAM)
        if pending["pending"] == 0 and length == 0:
            return
        await asyncio.sleep(0.05)
    pytest.fail("the fan-out job was never finished")
