"""Fan-out on write: putting a new post into its author's followers' home feeds.

Authors with more than `Services.fanout_max_followers` followers are not fanned out: their
posts are merged into each reader's feed at read time (the hybrid large networks use).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from redis.exceptions import RedisError

from resolvers.context import Services
from storage.fanout_queue import FanoutJob
from storage.feed import FEED_MAX_ITEMS
from storage.user import UserRecord

logger = logging.getLogger(__name__)

LARGE_ACCOUNTS_LIMIT = 1_000  # accounts above the fan-out threshold, merged at read time
LARGE_ACCOUNTS_TTL_SECONDS = 60  # bounds how stale the list is if a refresh is missed
FOLLOWERS_PAGE = 1_000  # followers read from MongoDB per page, then written in one batch
MERGE_ON_FOLLOW = 200  # a new followee's recent posts that join the follower's feed


async def run_job(services: Services, job: FanoutJob) -> None:
    """Do one job. Safe to redo: pushing twice leaves one entry, removing twice none."""
    stores = services.stores
    if job.op == "push":
        posts = await stores.posts.find_by_ids([job.post_id])
        if job.post_id not in posts:
            return  # deleted before its fan-out ran
        await stores.feeds.push([job.author_id], job.post_id)
        if job.author_id in await large_account_ids(services):
            return  # merged into feeds at read time instead
    async for follower_ids in _follower_pages(services, job.author_id):
        if job.op == "push":
            await stores.feeds.push(follower_ids, job.post_id)
        else:
            await stores.feeds.unpush(follower_ids, job.post_id)
    if job.op == "unpush":
        await stores.feeds.unpush([job.author_id], job.post_id)


async def _follower_pages(services: Services, author_id: int) -> AsyncIterator[list[int]]:
    """The author's followers a page at a time; the next page is read from MongoDB while the
    caller writes the current one to Redis, so page reads add nothing to the wall time."""
    follows = services.stores.follows

    def read(after_id: int) -> asyncio.Task[list[tuple[int, int]]]:
        return asyncio.ensure_future(
            follows.follower_ids(author_id, after_id=after_id, limit=FOLLOWERS_PAGE)
        )

    upcoming = read(0)
    while rows := await upcoming:
        upcoming = read(rows[-1][0])
        yield [follower_id for _, follower_id in rows]


async def large_account_ids(services: Services) -> list[int]:
    """The accounts not fanned out. Writers and readers decide from this one list, so every
    post is either fanned out or merged at read time, even while the list is refreshed."""
    feeds = services.stores.feeds
    cache_key = _large_accounts_key(services)
    large = await feeds.cached_ids(cache_key)
    if large is None:
        large = await services.stores.users.ids_with_more_followers_than(
            services.fanout_max_followers, limit=LARGE_ACCOUNTS_LIMIT
        )
        await feeds.cache_ids(cache_key, large, ttl_seconds=LARGE_ACCOUNTS_TTL_SECONDS)
    return large


async def follower_count_changed(services: Services, user: UserRecord, delta: int) -> None:
    """Refresh the list of large accounts at once when `user` just crossed the threshold.

    An account falling below it is no longer merged at read time, and the posts it made
    while large were never fanned out: they are fanned out now, so they stay in the feeds.
    """
    threshold = services.fanout_max_followers
    crossed_up = delta > 0 and user.follower_count == threshold + 1
    crossed_down = delta < 0 and user.follower_count == threshold
    if not (crossed_up or crossed_down):
        return
    try:
        await services.stores.feeds.forget_ids(_large_accounts_key(services))
    except RedisError as error:  # the list expires by itself soon after
        logger.warning("large-account list not refreshed: %s", error)
    if crossed_down:
        for post_id in await services.stores.posts.ids_by_authors(
            [user.id], before_id=None, limit=MERGE_ON_FOLLOW
        ):
            await enqueue(services, "push", post_id, user.id)


def followed_large_key(viewer_id: int) -> str:
    """The viewer's cached share of the large accounts (see resolvers/feed.py)."""
    return f"followed-large:{viewer_id}"


def _large_accounts_key(services: Services) -> str:
    return f"large-accounts:{services.fanout_max_followers}"


async def enqueue(services: Services, op: str, post_id: int, author_id: int) -> None:
    await services.stores.fanout.enqueue(FanoutJob(op, post_id, author_id), now=services.clock())


async def merge_followee(services: Services, follower_id: int, followee_id: int) -> None:
    """A new follow: the followee's recent posts join the follower's feed."""
    try:
        recent = await services.stores.posts.ids_by_authors(
            [followee_id], before_id=None, limit=MERGE_ON_FOLLOW
        )
        await services.stores.feeds.merge(follower_id, recent)
        await services.stores.feeds.forget_ids(followed_large_key(follower_id))
    except RedisError as error:  # the feed is rebuildable, and reads filter by follows
        logger.warning("feed merge skipped: %s", error)


async def unmerge_followee(services: Services, follower_id: int, followee_id: int) -> None:
    """An ended follow: the followee's posts leave the follower's feed."""
    try:
        posts = await services.stores.posts.ids_by_authors(
            [followee_id], before_id=None, limit=FEED_MAX_ITEMS
        )
        await services.stores.feeds.unmerge(follower_id, posts)
        await services.stores.feeds.forget_ids(followed_large_key(follower_id))
    except RedisError as error:
        logger.warning("feed unmerge skipped: %s", error)
