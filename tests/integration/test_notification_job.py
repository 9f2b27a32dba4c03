"""The notification job itself, done by hand: at least once means done twice, or late.

The records are written straight through the stores and the job is run directly, as a
redelivery would run it again; the worker test queues it as the mutations do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.services import Runtime, open_runtime
from jobs.notification import run_notification_job
from jobs.worker import FanoutWorker
from resolvers import notification as notification_resolvers
from resolvers.context import Context, Services
from resolvers.notification import UNREAD_COUNT_CAP
from storage.comment import CommentRecord
from storage.follow import FollowState
from storage.notification import (
    STORED_ACTORS,
    NotificationCause,
    NotificationJob,
    NotificationKind,
    NotificationRecord,
    NotificationWrite,
    follow_group,
)
from storage.post import PostRecord
from storage.user import UserRecord
from subscriptions.channels import user_channel
from subscriptions.events import Event, NotificationReceived
from subscriptions.subscription import Subscription
from tests.conftest import insert_post, insert_user, make_settings
from tests.servers import RedisProcess

DONE_SECONDS = 20  # only bounds a failing test


async def new_post(services: Services, author: UserRecord) -> PostRecord:
    return await insert_post(services, author.id)


async def like(services: Services, fan: UserRecord, post: PostRecord) -> None:
    """What likePost writes before it queues the job."""
    assert await services.stores.likes.insert(services.ids.next_id(), fan.id, post.id)
    await services.stores.posts.increment_counts(post.id, like=1)


async def unlike(services: Services, fan: UserRecord, post: PostRecord) -> None:
    assert await services.stores.likes.delete(fan.id, post.id)
    await services.stores.posts.increment_counts(post.id, like=-1)


async def stored(services: Services, receiver: UserRecord) -> list[NotificationRecord]:
    return await services.stores.notifications.page(receiver.id, before_key=None, limit=100)


async def events_until(subscription: Subscription[Event], last: Event) -> list[Event]:
    """What the subscription received before `last`, which the test publishes itself: the
    memory bus keeps the order, so it comes after everything published before it."""
    events: list[Event] = []
    async with asyncio.timeout(DONE_SECONDS):
        async for event in subscription:
            if event == last:
                return events
            events.append(event)
    return events


async def test_a_redelivered_like_job_neither_duplicates_nor_recounts(runtime: Runtime) -> None:
    services = runtime.services
    author = await insert_user(services)
    fans = [await insert_user(services) for _ in range(STORED_ACTORS + 2)]  # more than kept
    post = await new_post(services, author)
    for fan in fans:
        await like(services, fan, post)
    job = NotificationJob(NotificationCause.LIKES, post.id, fans[-1].id)
    marker = NotificationReceived(author.id, 0)

    async with services.bus.subscribe(user_channel(author.id)) as told:
        await run_notification_job(runtime.jobs, job)
        await run_notification_job(runtime.jobs, job)  # redelivered
        await services.bus.publish(marker)
        events = await events_until(told, marker)

    [group] = await stored(services, author)
    assert (group.kind, group.actor_count) == (NotificationKind.LIKE, len(fans))
    assert group.actor_ids == tuple(fan.id for fan in reversed(fans))[:STORED_ACTORS]
    assert events == [NotificationReceived(author.id, group.id)]  # told once


async def test_a_like_job_done_late_writes_what_the_likes_say_now(runtime: Runtime) -> None:
    services = runtime.services
    author, stays, leaves = [await insert_user(services) for _ in range(3)]
    post = await new_post(services, author)
    await like(services, stays, post)
    await like(services, leaves, post)
    late = NotificationJob(NotificationCause.LIKES, post.id, leaves.id)  # the like's own job
    await unlike(services, leaves, post)

    await run_notification_job(runtime.jobs, late)

    [group] = await stored(services, author)
    assert (group.actor_ids, group.actor_count) == ((stays.id,), 1)


async def test_a_redelivered_comment_job_writes_one_notification_per_receiver(
    runtime: Runtime,
) -> None:
    services = runtime.services
    author, commenter, friend = [await insert_user(services) for _ in range(3)]
    post = await new_post(services, author)
    comment = CommentRecord(
        id=services.ids.next_id(), post_id=post.id, author_id=commenter.id,
        text=f"@{friend.username} look", reply_to_id=None, reply_count=0,
        created_at=services.clock(),
    )  # fmt: skip
    await services.stores.comments.insert(comment)
    job = NotificationJob(NotificationCause.COMMENT, comment.id, commenter.id)

    for _ in range(2):
        await run_notification_job(runtime.jobs, job)

    assert [n.kind for n in await stored(services, author)] == [NotificationKind.COMMENT]
    assert [n.kind for n in await stored(services, friend)] == [NotificationKind.MENTION]


@pytest.fixture
async def own_runtime(redis_process: RedisProcess) -> AsyncIterator[Runtime]:
    """A runtime on a Redis of its own: no test server's worker takes its jobs."""
    async with open_runtime(make_settings(redis_process.url)) as runtime:
        yield runtime


async def test_the_worker_does_a_queued_notification_job(own_runtime: Runtime) -> None:
    services = own_runtime.services
    star, fan = await insert_user(services), await insert_user(services)
    follow_id = services.ids.next_id()
    await services.stores.follows.insert(follow_id, fan.id, star.id, FollowState.FOLLOWING)
    job = NotificationJob(NotificationCause.FOLLOW, star.id, fan.id)
    await services.stores.fanout.enqueue(job, now=services.clock())

    stop = asyncio.Event()
    worker = asyncio.create_task(FanoutWorker(own_runtime.jobs, "notification-test").run(stop))
    try:
        for _ in range(DONE_SECONDS * 50):
            if await stored(services, star):
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await worker

    [follow] = await stored(services, star)
    assert (follow.kind, follow.actor_ids, follow.key) == (
        NotificationKind.FOLLOW,
        (fan.id,),
        follow_id,
    )


async def test_the_unread_count_stops_at_its_cap(runtime: Runtime) -> None:
    services = runtime.services
    receiver, actor = await insert_user(services), await insert_user(services)
    for n in range(UNREAD_COUNT_CAP + 5):
        write = NotificationWrite(
            receiver.id, follow_group(n), NotificationKind.FOLLOW, services.ids.next_id(),
            (actor.id,), 1,
        )  # fmt: skip
        await services.stores.notifications.put(write, new_id=services.ids.next_id())

    count = await notification_resolvers.unread_count(Context.for_viewer(services, receiver))

    assert count == UNREAD_COUNT_CAP


async def comment_on(services: Services, post: PostRecord, author: UserRecord, text: str) -> int:
    comment = CommentRecord(
        id=services.ids.next_id(), post_id=post.id, author_id=author.id, text=text,
        reply_to_id=None, reply_count=0, created_at=services.clock(),
    )  # fmt: skip
    await services.stores.comments.insert(comment)
    return comment.id


async def test_a_mention_the_receiver_may_not_see_is_never_written(runtime: Runtime) -> None:
    """Checked when writing, not only when reading: nothing is stored for them."""
    services = runtime.services
    owner, insider, outsider = [await insert_user(services) for _ in range(3)]
    await services.stores.users.update_profile(owner.id, {"is_private": True})
    await services.stores.follows.insert(
        services.ids.next_id(), insider.id, owner.id, FollowState.FOLLOWING
    )
    post = await new_post(services, owner)
    comment_id = await comment_on(services, post, insider, f"@{outsider.username} see this")

    await run_notification_job(
        runtime.jobs, NotificationJob(NotificationCause.COMMENT, comment_id, insider.id)
    )

    assert await stored(services, outsider) == []
    assert [n.kind for n in await stored(services, owner)] == [NotificationKind.COMMENT]


async def test_a_like_by_an_account_blocked_either_way_is_never_written(runtime: Runtime) -> None:
    services = runtime.services
    author, blocked, blocker, fan = [await insert_user(services) for _ in range(4)]
    await services.stores.blocks.insert(author.id, blocked.id)
    await services.stores.blocks.insert(blocker.id, author.id)
    post = await new_post(services, author)
    for liker in (fan, blocked, blocker):
        await like(services, liker, post)

    await run_notification_job(
        runtime.jobs, NotificationJob(NotificationCause.LIKES, post.id, blocker.id)
    )

    [group] = await stored(services, author)
    assert (group.actor_ids, group.actor_count) == ((fan.id,), 1)
