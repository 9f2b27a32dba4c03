"""Fan-out under faults: a worker dying mid-job, Redis going away, bad jobs and bad moments.

Every test ends by reading what the feeds hold in Redis: each good job done, nothing lost,
nothing there twice, and the bad job in the dead letters or done, as its kind requires.

The worker here runs as a task of the test's event loop, and dies by cancellation between
two batches: MongoDB is mongomock, which lives inside one process, so a worker process of
its own could not share it. Against a real MongoDB (PICTOGRAPH_TEST_MONGODB_URL) the same
protocol holds for `pictograph worker` processes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pymongo.errors import AutoReconnect
from redis.exceptions import ConnectionError as RedisConnectionError

import jobs.fanout
import jobs.video
import jobs.worker
from app.main import create_app
from app.services import Runtime, open_runtime
from jobs.context import JobServices
from jobs.supervisor import Supervisor
from jobs.video import UNPROCESSABLE
from jobs.worker import MAX_DELIVERIES, FanoutWorker
from resolvers.context import Services
from storage.fanout_queue import FanoutJob, FanoutOp, FanoutQueue, QueueStream, queue_key
from storage.feed import FeedStore, feed_key, member
from storage.follow import FollowState
from storage.post import MediaRecord, PostRecord
from storage.video import VideoJob, VideoOwner, VideoState, VideoStatus
from subscriptions.channels import post_channel
from subscriptions.events import ReelProcessed
from tests.client import Account, GraphQLClient
from tests.conftest import make_settings
from tests.media import jpeg
from tests.servers import RedisProcess, app_server, free_port

FOLLOWERS = 2_500  # three pages of FOLLOWERS_PAGE: room to die between two of them
FEW_FOLLOWERS = 5
CLAIM_IDLE_MS = 50  # how soon a job left pending (its worker died, or it failed) is redone
RESTART_SECONDS = 0.05  # how soon the supervisor replaces a worker that died
DONE_SECONDS = 20  # only bounds a failing test: the worker takes jobs at once
PLACEHOLDER = 0  # what an empty feed holds (storage/feed.py), so that it exists


@pytest.fixture
async def runtime(redis_process: RedisProcess) -> AsyncIterator[Runtime]:
    async with open_runtime(make_settings(redis_process.url)) as runtime:
        yield runtime


@pytest.fixture
def services(runtime: Runtime) -> Services:
    """The runtime's services, with a queue that redoes a pending job after CLAIM_IDLE_MS."""
    return with_queue(runtime.services, runtime)


def with_queue(services: Services, runtime: Runtime, feeds: FeedStore | None = None) -> Services:
    queue = FanoutQueue(services.redis, runtime.database["outbox"], claim_idle_ms=CLAIM_IDLE_MS)
    return dataclasses.replace(
        services,
        stores=dataclasses.replace(
            services.stores, fanout=queue, feeds=feeds or services.stores.feeds
        ),
    )


def job_services(services: Services) -> JobServices:
    return JobServices(
        services.stores,
        services.fanout_max_followers,
        services.ids,
        services.bus,
        services.objects,
        services.decode_slots,  # no video job here: the decode slots stand in
    )


@asynccontextmanager
async def supervised_worker(services: Services) -> AsyncIterator[Supervisor]:
    """A worker as the server runs it (supervised), stopped when the block ends."""
    supervisor = Supervisor(
        lambda: FanoutWorker(job_services(services), "test-worker"),
        restart_first_seconds=RESTART_SECONDS,
    )
    async with supervisor.running():
        yield supervisor


class DyingFeedStore(FeedStore):
    """Writes the author's feed and one batch of followers' feeds, then dies as a killed
    worker would."""

    PUSHES_BEFORE_DYING = 2

    def __init__(self, feeds: FeedStore, died: asyncio.Event) -> None:
        self.__dict__.update(feeds.__dict__)
        self._died = died
        self._pushes = 0

    async def push(self, user_ids: Iterable[int], post_id: int) -> int:
        if self._died.is_set():
            await asyncio.sleep(3600)  # dead: never comes back
        pushed = await super().push(user_ids, post_id)
        self._pushes += 1
        if self._pushes == self.PUSHES_BEFORE_DYING:
            self._died.set()
            raise asyncio.CancelledError
        return pushed


async def author_with_followers(services: Services, count: int) -> tuple[int, list[int]]:
    """An author and `count` followers, all of whom read their feeds lately (they exist)."""
    stores, ids = services.stores, services.ids
    author = ids.next_id()
    followers = [ids.next_id() for _ in range(count)]
    await stores.users.insert(
        user_id=author, username=f"a{author}", email=f"{author}@x.io", password_hash="-",
        created_at=services.clock(),
    )  # fmt: skip
    for follower in followers:
        await stores.follows.insert(ids.next_id(), follower, author, FollowState.FOLLOWING)
        await stores.feeds.rebuild(follower, [])
    await stores.feeds.rebuild(author, [])
    return author, followers


async def new_post(services: Services, author: int) -> int:
    post_id = services.ids.next_id()
    await services.stores.posts.insert(
        empty_post(services, author, post_id), client_mutation_id=None
    )
    return post_id


async def enqueue_push(services: Services, post_id: int, author: int) -> None:
    await services.stores.fanout.enqueue(
        FanoutJob(FanoutOp.PUSH, post_id, author), now=services.clock()
    )


async def posts_by(services: Services, author: int, count: int) -> list[int]:
    """`count` new posts of `author`, each with its push job queued."""
    post_ids = []
    for _ in range(count):
        post_id = await new_post(services, author)
        await enqueue_push(services, post_id, author)
        post_ids.append(post_id)
    return post_ids


def empty_post(services: Services, author: int, post_id: int) -> PostRecord:
    return PostRecord(
        id=post_id, author_id=author, caption="", hashtags=(), mention_ids=(), media=(),
        like_count=0, comment_count=0, preview_comments=(), created_at=services.clock(),
    )  # fmt: skip


async def feed_entries(services: Services, user_id: int) -> list[bytes]:
    """Every member of the user's feed in Redis, as stored (placeholder included)."""
    entries: Any = await services.redis.zrange(feed_key(user_id), 0, -1)
    return list(entries)


async def feed_posts(services: Services, user_id: int) -> list[int]:
    """The post ids in the user's feed in Redis, oldest first."""
    return [int(entry) for entry in await feed_entries(services, user_id) if int(entry)]


async def every_feed_holds(services: Services, users: list[int], posts: list[int]) -> None:
    for user in users:
        assert await feed_posts(services, user) == sorted(posts), user


async def until_queue_is_empty(services: Services) -> None:
    """Every job acknowledged or dead-lettered: the job stream holds nothing."""
    for _ in range(DONE_SECONDS * 20):
        stats = await services.stores.fanout.stats()
        if stats.pending == 0 and stats.lag == 0:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"fan-out jobs were never finished: {stats}")


def failing_on_calls(
    method: Callable[..., Awaitable[Any]], calls: range, error: Exception
) -> Callable[..., Awaitable[Any]]:
    """`method`, except that the calls numbered in `calls` (from 1) raise `error`."""
    made = 0

    async def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal made
        made += 1
        if made in calls:
            raise error
        return await method(*args, **kwargs)

    return failing


async def test_a_job_left_by_a_dead_worker_is_redone_without_loss_or_duplicates(
    runtime: Runtime, services: Services
) -> None:
    author, followers = await author_with_followers(services, FOLLOWERS)
    post_id = await new_post(services, author)
    await services.stores.fanout.ensure_group()
    await enqueue_push(services, post_id, author)
    died = asyncio.Event()
    dying = with_queue(services, runtime, feeds=DyingFeedStore(services.stores.feeds, died))
    first = asyncio.create_task(FanoutWorker(job_services(dying), "first").run(asyncio.Event()))
    await asyncio.wait_for(died.wait(), timeout=10)
    first.cancel()
    assert 0 < sum([bool(await feed_posts(services, f)) for f in followers]) < len(followers)

    async with supervised_worker(services):
        await until_queue_is_empty(services)

    # Every feed holds the post, once, and nothing else beside the empty feed's placeholder.
    expected = sorted([member(PLACEHOLDER).encode(), member(post_id).encode()])
    for follower in followers:
        assert await feed_entries(services, follower) == expected, follower


async def test_a_post_made_while_redis_is_down_is_fanned_out_when_it_is_back(
    redis_process: RedisProcess,
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
        feed = "query ($o: FeedOrder) { feed(order: $o) { edges { node { id } } } }"
        await graphql.data(feed, {"o": "CHRONOLOGICAL"}, token=reader.token)  # the feed exists
        upload_id = await graphql.upload(author, jpeg(64, 64))
        redis_process.stop()

        created = await graphql.data(
            "mutation ($ids: [ID!]!) { createPost(input: {uploadIds: $ids}) { post { id } errors { code } } }",
            {"ids": [upload_id]},
            token=author.token,
        )
        post_id = created["createPost"]["post"]["id"]
        for order in ("CHRONOLOGICAL", "RANKED"):
            page = await graphql.data(feed, {"o": order}, token=reader.token)
            assert [e["node"]["id"] for e in page["feed"]["edges"]] == [post_id]
        services: Services = app.state.services
        outbox = app.state.runtime.database["outbox"]
        assert await outbox.count_documents({}) == 1  # the job waits in MongoDB

        redis_process.start()
        reader_id = int(await _user_id(services, reader.username))
        for _ in range(DONE_SECONDS * 20):
            if await _redis_answers(services) and await feed_posts(services, reader_id):
                break
            await asyncio.sleep(0.05)
        # Fanned out into the reader's feed in Redis by the relayed job, not read from MongoDB.
        assert await feed_posts(services, reader_id) == [await _post_id(services, author)]
        assert await outbox.count_documents({}) == 0


async def test_an_entry_that_is_not_a_job_is_dead_lettered_and_the_others_are_done(
    services: Services,
) -> None:
    author, followers = await author_with_followers(services, FEW_FOLLOWERS)
    await services.stores.fanout.ensure_group()
    before = await posts_by(services, author, 2)
    await services.redis.xadd(queue_key(QueueStream.JOBS), {"op": "explode", "post_id": "x"})
    after = await posts_by(services, author, 2)

    async with supervised_worker(services):
        await until_queue_is_empty(services)

    await every_feed_holds(services, [author, *followers], before + after)
    [letter] = await services.stores.fanout.dead_letters(count=10)
    assert letter.fields == {"op": "explode", "post_id": "x"}
    assert "not a fan-out job" in letter.error
    assert letter.deliveries == 1  # nothing to retry: the entry itself is wrong


async def test_a_job_whose_post_was_deleted_is_done_without_it(services: Services) -> None:
    author, followers = await author_with_followers(services, FEW_FOLLOWERS)
    await services.stores.fanout.ensure_group()
    kept = await posts_by(services, author, 2)
    [deleted] = await posts_by(services, author, 1)
    await services.stores.posts.delete(deleted)  # before its fan-out ran
    kept += await posts_by(services, author, 1)

    async with supervised_worker(services):
        await until_queue_is_empty(services)

    await every_feed_holds(services, [author, *followers], kept)
    assert await services.stores.fanout.dead_letters(count=10) == []  # a skip, not a failure


@pytest.mark.parametrize(
    ("store", "method", "error"),
    [
        ("follows", "follower_ids", AutoReconnect("MongoDB primary stepped down")),
        ("feeds", "push", RedisConnectionError("Redis connection reset")),
    ],
    ids=["mongodb", "redis"],
)
async def test_a_backend_failing_mid_job_for_a_while_delays_the_job_and_loses_nothing(
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    store: str,
    method: str,
    error: Exception,
) -> None:
    monkeypatch.setattr(jobs.fanout, "FOLLOWERS_PAGE", 2)  # three pages: fail in the middle
    monkeypatch.setattr(jobs.worker, "BACKOFF_FIRST_SECONDS", 0.01)  # keeps the test short
    monkeypatch.setattr(jobs.worker, "BACKOFF_MOST_SECONDS", 0.05)
    author, followers = await author_with_followers(services, FEW_FOLLOWERS)
    await services.stores.fanout.ensure_group()
    posts = await posts_by(services, author, 3)
    target = getattr(services.stores, store)
    # Down from the third call on, for more tries than the three jobs that are wrong would
    # be given between them.
    outage = range(3, 3 + 4 * MAX_DELIVERIES)
    monkeypatch.setattr(target, method, failing_on_calls(getattr(target, method), outage, error))

    async with supervised_worker(services) as supervisor:
        await until_queue_is_empty(services)

    await every_feed_holds(services, [author, *followers], posts)
    assert await services.stores.fanout.dead_letters(count=10) == []  # transient: not blamed
    assert supervisor.health().restarts == 0  # handled in the job, not by a restart


async def test_a_job_failing_every_time_is_dead_lettered_after_its_retries(
    services: Services,
) -> None:
    broken_author, broken_followers = await author_with_followers(services, FEW_FOLLOWERS)
    author, followers = await author_with_followers(services, FEW_FOLLOWERS)
    await services.redis.set(feed_key(broken_followers[-1]), "not a feed")  # WRONGTYPE
    await services.stores.fanout.ensure_group()
    [broken] = await posts_by(services, broken_author, 1)
    posts = await posts_by(services, author, 3)

    async with supervised_worker(services):
        await until_queue_is_empty(services)

    await every_feed_holds(services, [author, *followers], posts)
    [letter] = await services.stores.fanout.dead_letters(count=10)
    assert letter.fields == FanoutJob(FanoutOp.PUSH, broken, broken_author).fields()
    assert "WRONGTYPE" in letter.error
    assert letter.deliveries == MAX_DELIVERIES


async def test_jobs_are_done_after_redis_lost_its_scripts(services: Services) -> None:
    author, followers = await author_with_followers(services, FEW_FOLLOWERS)
    await services.stores.fanout.ensure_group()
    async with supervised_worker(services):
        posts = await posts_by(services, author, 1)
        await until_queue_is_empty(services)  # the fan-out script is loaded and used
        await services.redis.script_flush()  # as a restarted Redis: NOSCRIPT to EVALSHA
        posts += await posts_by(services, author, 2)
        await until_queue_is_empty(services)

    await every_feed_holds(services, [author, *followers], posts)
    assert await services.stores.fanout.dead_letters(count=10) == []


async def test_a_worker_that_dies_is_logged_and_replaced_and_its_jobs_are_done(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    author, followers = await author_with_followers(services, FEW_FOLLOWERS)
    await services.stores.fanout.ensure_group()
    posts = await posts_by(services, author, 2)
    queue = services.stores.fanout
    bug = RuntimeError("a bug in the worker loop")
    monkeypatch.setattr(
        queue, "relay_outbox", failing_on_calls(queue.relay_outbox, range(1, 2), bug)
    )

    with caplog.at_level(logging.ERROR, logger="jobs.supervisor"):
        async with supervised_worker(services) as supervisor:
            await until_queue_is_empty(services)
            health = supervisor.health()

    await every_feed_holds(services, [author, *followers], posts)
    assert health.restarts == 1 and health.alive
    assert health.last_death is not None and "RuntimeError: a bug" in health.last_death
    [record] = [r for r in caplog.records if r.name == "jobs.supervisor"]
    assert record.exc_info is not None and record.exc_info[1] is bug  # with its traceback


async def _redis_answers(services: Services) -> bool:
    try:
        return bool(await services.redis.ping())
    except RedisConnectionError:
        return False


async def _user_id(services: Services, username: str) -> int:
    user_id = await services.stores.users.find_id_by_username(username)
    assert user_id is not None
    return user_id


async def _post_id(services: Services, author: Account) -> int:
    """The author's one post."""
    [post_id] = await services.stores.posts.ids_by_authors(
        [await _user_id(services, author.username)], before_id=None, limit=2
    )
    return post_id


async def test_a_video_job_given_up_fails_its_reel_and_tells_its_author(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a reel PROCESSING whose upload cannot be read on any delivery of its job, its
    # author subscribed (on the bus) to its end
    author, _ = await author_with_followers(services, 0)
    source_key = f"media/uploads/{services.ids.next_id()}"
    await services.objects.write(source_key, b"never transcoded", content_type="video/mp4")
    read = services.objects.read

    async def unreadable_source(key: str, *, max_bytes: int) -> bytes | None:
        if key == source_key:
            raise ValueError("the object store answered garbage")
        return await read(key, max_bytes=max_bytes)

    monkeypatch.setattr(services.objects, "read", unreadable_source)
    reel = PostRecord(
        id=services.ids.next_id(), author_id=author, caption="", hashtags=(), mention_ids=(),
        media=(MediaRecord(id=services.ids.next_id(), type="VIDEO", width=720, height=1280,
                           renditions=(), poster_key="media/poster.jpg"),),
        like_count=0, comment_count=0, preview_comments=(), created_at=services.clock(),
        video=VideoState(VideoStatus.PROCESSING, source_key, duration_seconds=2.0),
    )  # fmt: skip
    await services.stores.posts.insert(reel, client_mutation_id=None)
    await services.stores.fanout.ensure_group()
    async with services.bus.subscribe(post_channel(reel.id)) as events:
        await services.stores.fanout.enqueue(
            VideoJob(VideoOwner.REEL, reel.id, source_key), now=services.clock()
        )
        # When the worker gives the job up after its retries
        async with supervised_worker(services):
            await until_queue_is_empty(services)
            announced = await asyncio.wait_for(anext(events), DONE_SECONDS)
    # Then the job is in the dead letters, and its reel is FAILED as an unforeseen failure
    # is, its author told, the upload's bytes gone
    [letter] = await services.stores.fanout.dead_letters(count=10)
    assert "the object store answered garbage" in letter.error
    stored = (await services.stores.posts.find_by_ids([reel.id]))[reel.id]
    assert stored.video is not None
    assert (stored.video.status, stored.video.failure) == (VideoStatus.FAILED, UNPROCESSABLE)
    assert announced == ReelProcessed(reel_id=reel.id)
    assert await read(source_key, max_bytes=1_000) is None
