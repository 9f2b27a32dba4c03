"""A page of notifications costs a constant number of MongoDB round trips whatever its size:
actors, posts, comments, messages and the blocks among them are each one batched read."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.services import Runtime, open_runtime
from bench.roundtrips import RoundTrips, counted_services
from jobs.notification import run_notification_job
from resolvers.context import Context, Services
from schema import build_schema
from storage.comment import CommentRecord
from storage.follow import FollowState
from storage.notification import NotificationCause, NotificationJob
from storage.post import PostRecord
from storage.user import UserRecord
from tests.conftest import insert_post, insert_user, make_settings
from tests.contract import operation_source

# Cold (Redis flushed): the page, the unread rows (up to 100) and the read marker; then, in
# one batch per loader for the page's rows and one more for the unread rows beyond the
# page, the actors, the blocks, the posts, the comments, the messages and their threads,
# and the authors of posts and comments with their blocks. Measured: 17 whatever the page
# size (11 when every unread row is on the page).
MAX_ROUND_TRIPS = 17
KINDS = 5  # a like group, a comment, a mention, a message and a follow per round
PAGE_SIZES = [5, 20, 50]
SCHEMA = build_schema(mask_errors=False)


@pytest.fixture(scope="module")
async def runtime(redis_url: str) -> AsyncIterator[Runtime]:
    async with open_runtime(make_settings(redis_url)) as runtime:
        yield runtime


async def new_post(
    services: Services, author: UserRecord, mention_ids: tuple[int, ...] = ()
) -> PostRecord:
    return await insert_post(services, author.id, mention_ids)


@pytest.fixture(scope="module")
async def viewer(runtime: Runtime) -> UserRecord:
    """As many notifications as the largest page, of every kind, written by their jobs."""
    services, stores = runtime.services, runtime.services.stores
    viewer = await insert_user(services)

    async def told(cause: NotificationCause, subject_id: int, actor_id: int) -> None:
        await run_notification_job(runtime.jobs, NotificationJob(cause, subject_id, actor_id))

    for _ in range(max(PAGE_SIZES) // KINDS):
        other = await insert_user(services)
        own = await new_post(services, viewer)
        for fan in [other, await insert_user(services)]:
            await stores.likes.insert(services.ids.next_id(), fan.id, own.id)
            await stores.posts.increment_counts(own.id, like=1)
        await told(NotificationCause.LIKES, own.id, other.id)
        comment = CommentRecord(
            id=services.ids.next_id(), post_id=own.id, author_id=other.id, text="hi",
            reply_to_id=None, reply_count=0, created_at=services.clock(),
        )  # fmt: skip
        await stores.comments.insert(comment)
        await told(NotificationCause.COMMENT, comment.id, other.id)
        theirs = await new_post(services, other, mention_ids=(viewer.id,))
        await told(NotificationCause.POST, theirs.id, other.id)
        thread = await stores.messages.find_or_create_thread(
            services.ids.next_id(), sorted([viewer.id, other.id]), services.clock()
        )
        message = await stores.messages.append(
            message_id=services.ids.next_id(), thread_id=thread.id, sender_id=other.id,
            text="hi", client_id=uuid.uuid4().hex, created_at=services.clock(),
        )  # fmt: skip
        await told(NotificationCause.MESSAGE, message.id, other.id)
        await stores.follows.insert(
            services.ids.next_id(), other.id, viewer.id, FollowState.FOLLOWING
        )
        await told(NotificationCause.FOLLOW, viewer.id, other.id)
    return viewer


async def read_notifications(
    runtime: Runtime, viewer: UserRecord, first: int, counter: RoundTrips
) -> dict[str, Any]:
    counted = counted_services(runtime, counter)
    counter.reset()
    result = await SCHEMA.execute(
        operation_source("Notifications"),
        variable_values={"first": first},
        context_value=Context.for_viewer(counted, viewer),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


@pytest.mark.parametrize("first", PAGE_SIZES)
async def test_a_cold_notifications_page_costs_a_constant_number_of_round_trips(
    runtime: Runtime, viewer: UserRecord, first: int
) -> None:
    await runtime.services.redis.flushdb()
    counter = RoundTrips()

    data = await read_notifications(runtime, viewer, first, counter)

    edges = data["notifications"]["edges"]
    assert len(edges) == first
    assert {edge["node"]["kind"] for edge in edges} == {
        "LIKE", "COMMENT", "MENTION", "MESSAGE", "FOLLOW"
    }  # fmt: skip
    assert all(edge["node"]["actors"] for edge in edges)
    assert counter.total <= MAX_ROUND_TRIPS, dict(counter.by_collection)
