"""The root `Subscription` type (graphql-transport-ws only): thin fields over
resolvers/subscription.py, which checks every event for its receiver."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

import strawberry

from resolvers import subscription as subscription_resolvers
from schema.shared_execution import shared_lane
from schema.types.comment import Comment
from schema.types.common import Info
from schema.types.message import Message
from schema.types.notification import Notification
from schema.types.post import Post
from schema.types.reel import Reel
from schema.types.user import User

ResultT = TypeVar("ResultT")
PresentedT = TypeVar("PresentedT")


@strawberry.type(name="PostLike", description="A like on a post, as `postLiked` pushes it.")
class PostLike:
    post: Post
    user: User = strawberry.field(description="Who liked it.")


def _present_like(like: subscription_resolvers.PostLike) -> PostLike:
    return PostLike(post=Post.wrap(like.post), user=User.wrap(like.user))


async def _presented(
    results: Awaitable[AsyncIterator[ResultT]], present: Callable[[ResultT], PresentedT]
) -> AsyncGenerator[PresentedT, None]:
    """Each of a subscription resolver's results as the schema type presents it."""
    async for result in await results:
        yield present(result)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each new like on the post, while the viewer may see the post and the "
        "liker. Refused (BAD_USER_INPUT naming `postId`) for a post they may not see."
    )
    async def post_liked(
        self, info: Info, post_id: strawberry.ID
    ) -> AsyncGenerator[PostLike, None]:
        lane = shared_lane(info, _present_like)
        likes = subscription_resolvers.post_liked(info.context, post_id, lane)
        return _presented(likes, _present_like)

    @strawberry.subscription(
        description="Each new comment or reply on the post that the viewer may see. Refused "
        "(BAD_USER_INPUT naming `postId`) for a post they may not see."
    )
    async def comment_added(
        self, info: Info, post_id: strawberry.ID
    ) -> AsyncGenerator[Comment, None]:
        comments = subscription_resolvers.comment_added(info.context, post_id)
        return _presented(comments, Comment.wrap)

    @strawberry.subscription(
        description="Every new message in any of the viewer's threads, their own included. "
        "A hint: after a reconnect, fetch `thread.messages(afterSeq:)` from the last seq seen."
    )
    async def message_received(self, info: Info) -> AsyncGenerator[Message, None]:
        messages = subscription_resolvers.message_received(info.context)
        return _presented(messages, Message.wrap)

    @strawberry.subscription(
        description="Each new notification of the viewer, or a grouped one that gained a later "
        "event (a new like), as `notifications` would show it."
    )
    async def notification_received(self, info: Info) -> AsyncGenerator[Notification, None]:
        notifications = subscription_resolvers.notification_received(info.context)
        return _presented(notifications, Notification.wrap)

    @strawberry.subscription(
        description="The reel when its processing ends (READY, or FAILED with the reason), "
        "for its author after createReel. Subscribe, then read `node(id:)` once: an end "
        "announced before the subscription started is not replayed. Refused (BAD_USER_INPUT "
        "naming `reelId`) for anyone but the reel's author."
    )
    async def reel_processed(
        self, info: Info, reel_id: strawberry.ID
    ) -> AsyncGenerator[Reel, None]:
        reels = subscription_resolvers.reel_processed(info.context, reel_id)
        return _presented(reels, Reel.wrap)
