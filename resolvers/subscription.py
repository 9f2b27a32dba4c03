"""Subscriptions (graphql-transport-ws): postLiked, commentAdded, messageReceived,
notificationReceived, reelProcessed.

Each checks its argument once, then is a receiver of its channel's deliveries
(resolvers/delivery.py): for every event on the channel, what the receiver may see at that
moment (the one policy, loaders/visibility.py) is delivered to it, and what it may not see
is skipped while the subscription goes on. So a receiver who is blocked, or unfollowed from
a private account, after subscribing stops receiving at the next event, and nothing
reaches them that a query would not show. A new subscription is one channel, one `Kind`
(its event type and its check) and one function here.

The check of a like is written for all of an event's receivers at once (`Audience`); the
others are written for one receiver's loaders and run for each (`each_receiver`): their
channels are one user's or one post's comments, and their selections are executed per
receiver anyway. Either way their reads go through the event's `SharedReads`: one batched
load of the entity and one of the receivers' blocks and follow states, not one per receiver.

The bus is a hint, the store is the truth: events published while a client was away, or
while Redis was, are not replayed; a client that reconnects catches up by cursor
(`thread.messages(afterSeq:)` for messages).
"""

from __future__ import annotations

import asyncio
import logging
import operator
from collections.abc import AsyncIterator, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from loaders import Loaders
from loaders.shared import SharedReads
from resolvers.context import Context
from resolvers.delivery import Kind, Lane, Receiver, each_receiver
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
# this process (a receiver and a task each). The 21st gets the protocol's `error`
# message for its id ("Subscription limit reached"), and the socket stays open.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 20

EventT = TypeVar("EventT", bound=Event)
ResultT = TypeVar("ResultT")


@dataclass(frozen=True, slots=True)
class PostLike:
    post: PostRecord
    user: UserRecord


async def _check_likes(
    event: PostLiked, viewer_ids: Sequence[int], shared: SharedReads
) -> list[PostLike | None]:
    post, liker = await asyncio.gather(
        shared.post_by_id.load(event.post_id), shared.user_by_id.load(event.actor_id)
    )
    author = None if post is None else await shared.user_by_id.load(post.author_id)
    if post is None or liker is None or author is None:
        return [None] * len(viewer_ids)
    see_post, see_liker = await asyncio.gather(
        shared.audience.see_post(viewer_ids, post, author),
        shared.audience.see_user(viewer_ids, liker),
    )
    # One object for all who may see it: receivers sharing a lane render it once.
    like = PostLike(post, liker)
    return [like if both else None for both in map(operator.and_, see_post, see_liker)]


async def _check_comment(
    loaders: Loaders, event: CommentAdded, _: SharedReads
) -> CommentRecord | None:
    return await loaders.comment_by_id.load(event.comment_id)


async def _check_message(
    loaders: Loaders, event: MessageReceived, _: SharedReads
) -> MessageRecord | None:
    # Through the thread: a receiver who is no longer one of its people gets nothing.
    return await loaders.message_by_id.load(event.message_id)


async def _check_notification(
    loaders: Loaders, event: NotificationReceived, _: SharedReads
) -> NotificationRecord | None:
    # As `notifications` shows it: to its receiver only, while its actors, post, comment or
    # message are visible to them.
    return await loaders.notification_by_id.load(event.notification_id)


async def _check_reel(loaders: Loaders, event: ReelProcessed, _: SharedReads) -> PostRecord | None:
    return await loaders.post_by_id.load(event.reel_id)


def _same_message(event: MessageReceived) -> Hashable:
    # One copy per participant, each on its own channel: the receivers of one message in
    # this process share its reads whichever copy they got.
    return (MessageReceived, event.message_id)


POST_LIKED = Kind("postLiked", PostLiked, _check_likes)
COMMENT_ADDED = Kind("commentAdded", CommentAdded, each_receiver(_check_comment))
MESSAGE_RECEIVED = Kind(
    "messageReceived", MessageReceived, each_receiver(_check_message), _same_message
)
NOTIFICATION_RECEIVED = Kind(
    "notificationReceived", NotificationReceived, each_receiver(_check_notification)
)
REEL_PROCESSED = Kind("reelProcessed", ReelProcessed, each_receiver(_check_reel))


async def post_liked(
    context: Context, raw_post_id: str, lane: Lane[PostLike] | None
) -> AsyncIterator[PostLike]:
    """`lane`: how this receiver may be pushed a like without executing its own selection
    (schema/shared_execution.py), or None."""
    post = await _subscribed_post(context, raw_post_id)
    return _receive(context, post_channel(post.id), POST_LIKED, lane)


async def comment_added(context: Context, raw_post_id: str) -> AsyncIterator[CommentRecord]:
    post = await _subscribed_post(context, raw_post_id)
    return _receive(context, post_channel(post.id), COMMENT_ADDED, None)


async def message_received(context: Context) -> AsyncIterator[MessageRecord]:
    viewer = require_viewer(context)
    return _receive(context, user_channel(viewer.id), MESSAGE_RECEIVED, None)


async def notification_received(context: Context) -> AsyncIterator[NotificationRecord]:
    viewer = require_viewer(context)
    return _receive(context, user_channel(viewer.id), NOTIFICATION_RECEIVED, None)


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
    # The reel's own channel: its events are this reel's.
    return _receive(context, post_channel(reel.id), REEL_PROCESSED, None)


async def _subscribed_post(context: Context, raw_post_id: str) -> PostRecord:
    """The post a subscription names, if the viewer may see it now; else a request error
    naming the argument (the subscription never starts)."""
    require_viewer(context)
    post = await resolve_post_argument(context, raw_post_id, "postId")
    if not isinstance(post, PostRecord):
        raise BadUserInput(post.message, field=post.field, reason=post.code.value)
    return post


async def _receive(
    context: Context, channel: str, kind: Kind[EventT, ResultT], lane: Lane[ResultT] | None
) -> AsyncIterator[ResultT]:
    """What this receiver is delivered of `kind` on `channel`: the results to execute its
    selection over (what its lane pushes never comes through here)."""
    deliveries = context.services.deliveries
    receiver = Receiver(context.services, require_viewer(context).id, lane)
    try:
        await deliveries.join(channel, kind, receiver)
        async for result, loaders in receiver.queue:
            # This operation's own context (Context.for_operation): the fields of what is
            # yielded resolve through the loaders made for its event.
            context.loaders = loaders
            yield result
    except SubscriberTooSlow as too_slow:
        logger.info("subscription on %s dropped: %s", channel, too_slow)
        if context.close_socket is not None:
            await context.close_socket(too_slow.close_code, "Subscriber too slow")
    finally:
        await deliveries.leave(channel, kind, receiver)
