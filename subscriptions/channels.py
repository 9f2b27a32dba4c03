"""Every channel name on the bus, and which channel each event goes to.

Names are prefixed so that the bus can share a Redis with other applications.
"""

from __future__ import annotations

from subscriptions.events import (
    CommentAdded,
    Event,
    MessageReceived,
    NotificationReceived,
    PostLiked,
    ReelProcessed,
    SessionRevoked,
)

PREFIX = "pictograph:"


def post_channel(post_id: int) -> str:
    """Likes and comments on one post (or reel), and the end of a reel's processing."""
    return f"{PREFIX}post:{post_id}"


def user_channel(user_id: int) -> str:
    """What concerns one user: their notifications, and the messages of every thread they
    take part in.

    Messages go to each participant's channel rather than to a channel per thread because
    the set of a user's threads changes while they are subscribed (a first message creates
    a thread) and has no bound: a subscriber to thread channels would have to learn of new
    threads through some channel of its own anyway, and hold one subscription per thread.
    A user channel is one subscription whatever the inbox holds, and a thread has at most
    `MAX_THREAD_PARTICIPANTS` (32) people, so a send publishes at most 32 small events."""
    return f"{PREFIX}user:{user_id}"


def sessions_channel() -> str:
    """Revoked sessions: every process closes the sockets that the session opened."""
    return f"{PREFIX}sessions"


def channel_of(event: Event) -> str:
    match event:
        case PostLiked(post_id=post_id) | CommentAdded(post_id=post_id):
            return post_channel(post_id)
        case ReelProcessed(reel_id=reel_id):
            return post_channel(reel_id)
        case MessageReceived(user_id=user_id) | NotificationReceived(user_id=user_id):
            return user_channel(user_id)
        case SessionRevoked():
            return sessions_channel()
