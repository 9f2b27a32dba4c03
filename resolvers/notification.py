"""Notifications: queueing their job from the mutations that cause them, and reading them.

A mutation only queues a job (`enqueue`: one stream entry, the cost of a fan-out job) and
responds; the worker writes the notifications (jobs/notification.py). Reading applies the
visibility policy again (loaders/notification.py): a block, an unfollow or a deletion after
the event hides a notification at once.
"""

from __future__ import annotations

import logging

from pymongo.errors import PyMongoError

from resolvers.context import Context, Services
from resolvers.errors import OkResult
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    decode_cursor,
    page_size,
    visible_keyset_page,
)
from resolvers.viewer import require_viewer
from storage.notification import NotificationCause, NotificationJob, NotificationRecord
from storage.user import UserRecord

logger = logging.getLogger(__name__)

# The actors a grouped notification lists, latest first: "a, b and c liked your post" and a
# count for the rest, as Instagram and Mastodon's grouped notifications show them.
SHOWN_ACTORS = 3
# A badge shows "99+" from here on: counting further is work no one sees, and the count is
# one bounded read (of at most this many notifications) whatever the backlog.
UNREAD_COUNT_CAP = 100


async def enqueue(
    services: Services, cause: NotificationCause, subject_id: int, actor_id: int
) -> None:
    """Queue the notification job of what a mutation just wrote. A job that cannot be queued
    at all (Redis and the outbox both failing) costs a notification, never the mutation."""
    job = NotificationJob(cause, subject_id, actor_id)
    try:
        await services.stores.fanout.enqueue(job, now=services.clock())
    except PyMongoError:
        logger.exception("notification job lost: %r", job)


async def notifications(
    context: Context, first: int | None, after: str | None
) -> Page[NotificationRecord]:
    """The viewer's notifications, latest event first."""
    viewer = require_viewer(context)
    size, before_key = page_size(first, DEFAULT_PAGE_SIZE), decode_cursor(after)
    store = context.services.stores.notifications

    async def fetch(older_than: int | None, limit: int) -> list[NotificationRecord]:
        return await store.page(viewer.id, before_key=older_than, limit=limit)

    return await visible_keyset_page(
        fetch, context.loaders.notification_by_id.filter, lambda row: row.key, size, before_key
    )


async def unread_count(context: Context) -> int:
    """The viewer's unread notifications that they may see, at most UNREAD_COUNT_CAP."""
    viewer = require_viewer(context)
    read_key = await context.loaders.read_key_by_user_id.load(viewer.id)
    unread = await context.services.stores.notifications.page(
        viewer.id, before_key=None, after_key=read_key, limit=UNREAD_COUNT_CAP
    )
    return len(await context.loaders.notification_by_id.filter(unread))


async def mark_read(context: Context) -> OkResult:
    """Everything up to now is read: one marker, whatever the number of notifications. A
    notification that later gains an event (a new like in its group) is unread again."""
    viewer = require_viewer(context)
    services = context.services
    await services.stores.notifications.mark_read(viewer.id, services.ids.next_id())
    context.loaders.read_key_by_user_id.clear(viewer.id)
    return OkResult(ok=True)


async def visible_notification(context: Context, notification_id: int) -> NotificationRecord | None:
    """The notification, if it is the viewer's and they may see it."""
    return await context.loaders.notification_by_id.load(notification_id)


async def is_read(context: Context, notification: NotificationRecord) -> bool:
    read_key = await context.loaders.read_key_by_user_id.load(notification.receiver_id)
    return notification.key <= read_key


async def actors(context: Context, notification: NotificationRecord) -> list[UserRecord]:
    """The latest SHOWN_ACTORS actors the viewer may see."""
    shown = await context.loaders.notification_by_id.actors(notification)
    return shown[:SHOWN_ACTORS]


async def actor_count(context: Context, notification: NotificationRecord) -> int:
    """Every actor, less the stored ones hidden from the viewer since (blocked either way)."""
    shown = await context.loaders.notification_by_id.actors(notification)
    hidden = len(notification.actor_ids) - len(shown)
    return max(notification.actor_count - hidden, len(shown))
