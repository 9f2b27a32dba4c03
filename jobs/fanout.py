"""The fan-out job: putting a new post into its author's followers' home feeds, or taking a
deleted one out of them; and putting a new story's author into the followers' story trays."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import UTC, datetime

from jobs.context import JobServices
from storage.fanout_queue import FanoutJob, FanoutOp

FOLLOWERS_PAGE = 1_000  # followers read from MongoDB per page, then written in one batch


async def run_fanout_job(services: JobServices, job: FanoutJob) -> None:
    """Do one job. Safe to redo: pushing twice leaves one entry, removing twice none.

    A post deleted before its push ran is skipped: that is the job done, not a failure (the
    deletion's own unpush job follows it)."""
    stores = services.stores
    if job.op is FanoutOp.STORY_PUSH:
        await _push_story(services, job)
        return
    if job.op is FanoutOp.PUSH:
        posts = await stores.posts.find_by_ids([job.post_id])
        if job.post_id not in posts:
            return
        await stores.feeds.push([job.author_id], job.post_id)
        large = await stores.large_accounts.ids(above=services.fanout_max_followers)
        if job.author_id in large:
            return  # merged into feeds at read time instead
    async with aclosing(_follower_pages(services, job.author_id)) as pages:
        async for follower_ids in pages:
            if job.op is FanoutOp.PUSH:
                await stores.feeds.push(follower_ids, job.post_id)
            else:
                await stores.feeds.unpush(follower_ids, job.post_id)
    if job.op is FanoutOp.UNPUSH:
        await stores.feeds.unpush([job.author_id], job.post_id)


async def _push_story(services: JobServices, job: FanoutJob) -> None:
    """The author's followers' trays get the author, live until this story expires. A story
    gone or expired before the job ran is skipped: the trays would drop it on read anyway.
    The author's own tray needs nothing: a tray always reads its owner's stories."""
    stores = services.stores
    story = (await stores.stories.find_by_ids([job.post_id])).get(job.post_id)
    if story is None or story.expires_at <= datetime.now(UTC):
        return
    large = await stores.large_accounts.ids(above=services.fanout_max_followers)
    if job.author_id in large:
        return  # merged into trays at read time instead
    async with aclosing(_follower_pages(services, job.author_id)) as pages:
        async for follower_ids in pages:
            await stores.story_trays.push(follower_ids, job.author_id, story.expires_at)


async def _follower_pages(services: JobServices, author_id: int) -> AsyncGenerator[list[int]]:
    """The author's followers a page at a time; the next page is read from MongoDB while the
    caller writes the current one to Redis, so page reads add nothing to the wall time."""
    follows = services.stores.follows

    def read(after_id: int) -> asyncio.Task[list[tuple[int, int]]]:
        return asyncio.ensure_future(
            follows.follower_ids(author_id, after_id=after_id, limit=FOLLOWERS_PAGE)
        )

    upcoming = read(0)
    try:
        while rows := await upcoming:
            upcoming = read(rows[-1][0])
            yield [follower_id for _, follower_id in rows]
    finally:  # a caller that stopped early (an error) leaves no read running, nor its error
        upcoming.cancel()
        upcoming.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Task[list[tuple[int, int]]]) -> None:
    """Read a dropped page read's outcome, so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()
