"""Fan-out, the request side: queueing the jobs a post, a story or a deletion needs, and
keeping the follower's feed and story tray in step with a follow that begins or ends. The
jobs themselves run in `jobs/fanout.py`.

Authors with more than `Services.fanout_max_followers` followers are not fanned out: their
posts are merged into each reader's feed at read time (the hybrid large networks use).
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from resolvers.context import Services
from storage.fanout_queue import FanoutJob, FanoutOp
from storage.feed import FEED_MAX_ITEMS
from storage.id_lists import IdList
from storage.user import UserRecord

logger = logging.getLogger(__name__)

MERGE_ON_FOLLOW = 200  # a new followee's recent posts that join the follower's feed


async def enqueue(services: Services, op: FanoutOp, post_id: int, author_id: int) -> None:
    await services.stores.fanout.enqueue(FanoutJob(op, post_id, author_id), now=services.clock())


async def large_account_ids(services: Services) -> list[int]:
    """The accounts not fanned out, which readers merge in (see storage/large_accounts.py)."""
    return await services.stores.large_accounts.ids(above=services.fanout_max_followers)


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
        await services.stores.large_accounts.forget(above=threshold)
    except RedisError as error:  # the list expires by itself soon after
        logger.warning("large-account list not refreshed: %s", error)
    if crossed_down:
        for post_id in await services.stores.posts.ids_by_authors(
            [user.id], before_id=None, limit=MERGE_ON_FOLLOW
        ):
            await enqueue(services, FanoutOp.PUSH, post_id, user.id)
        live = await services.stores.stories.live_by_authors([user.id], now=services.clock())
        if live:  # the newest story carries the latest expiry
            await enqueue(services, FanoutOp.STORY_PUSH, live[-1].id, user.id)


async def merge_followee(services: Services, follower_id: int, followee_id: int) -> None:
    """A new follow: the followee's recent posts join the follower's feed."""
    try:
        recent = await services.stores.posts.ids_by_authors(
            [followee_id], before_id=None, limit=MERGE_ON_FOLLOW
        )
        await services.stores.feeds.merge(follower_id, recent)
        await services.stores.id_lists.forget(IdList.FOLLOWED_LARGE, follower_id)
        expiries = await services.stores.stories.latest_expiries(
            [followee_id], now=services.clock()
        )
        if followee_id in expiries:
            await services.stores.story_trays.push(
                [follower_id], followee_id, expiries[followee_id]
            )
    except RedisError as error:  # feed and tray are rebuildable, and reads filter by follows
        logger.warning("feed merge skipped: %s", error)


async def unmerge_followee(services: Services, follower_id: int, followee_id: int) -> None:
    """An ended follow: the followee's posts leave the follower's feed."""
    try:
        posts = await services.stores.posts.ids_by_authors(
            [followee_id], before_id=None, limit=FEED_MAX_ITEMS
        )
        await services.stores.feeds.unmerge(follower_id, posts)
        await services.stores.id_lists.forget(IdList.FOLLOWED_LARGE, follower_id)
        await services.stores.story_trays.remove(follower_id, followee_id)
    except RedisError as error:
        logger.warning("feed unmerge skipped: %s", error)
