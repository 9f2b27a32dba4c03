"""Subscriptions (graphql-transport-ws): postLiked, commentAdded, messageReceived,
notificationReceived, reelProcessed.

Each is the same loop (`_deliveries`): check the argument once, subscribe to one bus channel,
and for every event on it build loaders for that event alone, load what the event names
through them and check, for this receiver and at this moment, that they may see it (the one
policy, loaders/visibility.py); what they may not see is skipped and the subscription goes
on. So a receiver who is blocked, or unfollowed from a private account, after subscribing
stops receiving at the next event, and nothing reaches them that a query would not show.
A new subscription is one channel, one event type and one check.

The loaders of one event are the receiver's own, but their reads go through the event's
`SharedReads` (loaders/shared.py) while other receivers in this process handle the same
event: one event fanned out to a thousand local subscribers costs one batched load of the
entity and one of the receivers' blocks and follow states, not a thousand.

The bus is a hint, the store is the truth: events published while a client was away, or
while Redis was, are not replayed; a client that reconnects catches up by cursor
(`thread.messages(afterSeq:)` for messages).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from loaders import Loaders
from loaders.shared import SharedReads
from resolvers.context import Context
from resolvers.errors import BadUserInput, ErrorCode, FieldError
from resolvers.ids import node_argument
from resolvers.post import resolve_post_argument, visible_reel
from resolvers.viewer import require_viewer
from storage.comment import CommentRecord
from storage.message import MessageRecord
from storage.notification import NotificationRecord
from storage.post import PostRecord
from storage.user import UserRecord
from subscriptions.channels import post_channel, user_channel
from subscriptions.events import (
    CommentAdded,
    Event,
    MessageReceived,
    NotificationReceived,
    PostLiked,
    ReelProcessed,
)
from subscriptions.subscription import SubscriberTooSlow

logger = logging.getLogger(__name__)

# Operations one socket may run at once, subscriptions and queries together (strawberry
# counts both). An app screen watches a handful of things (its messages, notifications, the
# post on screen); 20 leaves room for several screens, and bounds what one socket costs
# this process (a bus subscription and a task each). The 21st gets the protocol's `error`
# message for its id ("Subscription limit reached"), and the socket stays open.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 20

EventT = TypeVar("EventT", bound=Event)
ResultT = TypeVar("ResultT")
PresentedT = TypeVar("PresentedT")


@dataclass(frozen=True, slots=True)
class PostLike:
    post: PostRecord
    user: UserRecord


async def post_liked(
    context: Context, raw_post_id: str, present: Callable[[PostLike], PresentedT]
) -> AsyncIterator[PresentedT]:
    """`present` makes what is yielded from the like: once per event in this process, for
    every receiver whose check passes (they all see the same records, read once through the
    event's SharedReads), so their executions of a viewer-independent selection can be
    shared (schema/shared_execution.py)."""
    post = await _subscribed_post(context, raw_post_id)

    async def check(loaders: Loaders, event: PostLiked, shared: SharedReads) -> PresentedT | None:
        liked, user = await asyncio.gather(
            loaders.post_by_id.load(event.post_id), loaders.user_by_id.load(event.actor_id)
        )
        if liked is None or user is None:
            return None
        return shared.once(("postLiked", liked.id, user.id), lambda: present(PostLike(liked, user)))

    return _deliveries(context, post_channel(post.id), PostLiked, _same_event, check)


async def comment_added(context: Context, raw_post_id: str) -> AsyncIterator[CommentRecord]:
    post = await _subscribed_post(context, raw_post_id)

    async def check(loaders: Loaders, event: CommentAdded, _: SharedReads) -> CommentRecord | None:
        return await loaders.comment_by_id.load(event.comment_id)

    return _deliveries(context, post_channel(post.id), CommentAdded, _same_event, check)


async def message_received(context: Context) -> AsyncIterator[MessageRecord]:
    viewer = require_viewer(context)

    async def check(
        loaders: Loaders, event: MessageReceived, _: SharedReads
    ) -> MessageRecord | None:
        # Through the thread: a receiver who is no longer one of its people gets nothing.
        return await loaders.message_by_id.load(event.message_id)

    return _deliveries(context, user_channel(viewer.id), MessageReceived, _same_message, check)


async def notification_received(context: Context) -> AsyncIterator[NotificationRecord]:
    viewer = require_viewer(context)

    async def check(
        loaders: Loaders, event: NotificationReceived, _: SharedReads
    ) -> NotificationRecord | None:
        # As `notifications` shows it: to its receiver only, while its actors, post, comment
        # or message are visible to them.
        return await loaders.notification_by_id.load(event.notification_id)

    return _deliveries(context, user_channel(viewer.id), NotificationReceived, _same_event, check)


async def reel_processed(context: Context, raw_reel_id: str) -> AsyncIterator[PostRecord]:
    """The reel once its video job has ended (READY, or FAILED with the reason): what its
    author waits for after createReel, and for its author only (no one else may see a reel
    still PROCESSING, and a READY one has nothing left to announce). Subscribe first, then
    read `node(id:)` once: an end announced before the subscription started is not
    replayed."""
    viewer = require_viewer(context)
    reel = await node_argument(context, raw_reel_id, "Reel", "reelId", visible_reel)
    if isinstance(reel, PostRecord) and reel.author_id != viewer.id:
        reel = FieldError(ErrorCode.NOT_FOUND, "reelId", "No such reel of yours.")
    if not isinstance(reel, PostRecord):
        raise BadUserInput(reel.message, field=reel.field, reason=reel.code.value)

    async def check(loaders: Loaders, event: ReelProcessed, _: SharedReads) -> PostRecord | None:
        if event.reel_id != reel.id:
            return None
        return await loaders.post_by_id.load(event.reel_id)

    return _deliveries(context, post_channel(reel.id), ReelProcessed, _same_event, check)


def _same_event(event: Event) -> Hashable:
    return event


def _same_message(event: MessageReceived) -> Hashable:
    # One copy per participant, each on its own channel: the receivers of one message in
    # this process share its reads whichever copy they got.
    return (MessageReceived, event.message_id)


async def _subscribed_post(context: Context, raw_post_id: str) -> PostRecord:
    """The post a subscription names, if the viewer may see it now; else a request error
    naming the argument (the subscription never starts)."""
    require_viewer(context)
    post = await resolve_post_argument(context, raw_post_id, "postId")
    if not isinstance(post, PostRecord):
        raise BadUserInput(post.message, field=post.field, reason=post.code.value)
    return post


async def _deliveries(
    context: Context,
    channel: str,
    event_type: type[EventT],
    share_key: Callable[[EventT], Hashable],
    check: Callable[[Loaders, EventT, SharedReads], Awaitable[ResultT | None]],
) -> AsyncIterator[ResultT]:
    """What `check` makes of each `event_type` event on `channel`, for this receiver."""
    services = context.services
    viewer = require_viewer(context)
    async with services.bus.subscribe(channel) as events:
        try:
            async for event in events:
                if not isinstance(event, event_type):
                    continue  # another event on the same channel, for another subscription
                with services.shared_reads.hold(share_key(event), services.stores) as shared:
                    # This operation's own context (Context.for_operation): the fields of
                    # what is yielded resolve through these loaders too.
                    context.loaders = Loaders.create(services.stores, viewer.id, shared=shared)
                    result = await check(context.loaders, event, shared)
                    if result is not None:
                        yield result
        except SubscriberTooSlow as too_slow:
            logger.info("subscription on %s dropped: %s", channel, too_slow)
            if context.close_socket is not None:
                await context.close_socket(too_slow.close_code, "Subscriber too slow")
