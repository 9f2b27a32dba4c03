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
    SessionRevoked,
)

PREFIX = "pictograph:"


def post_channel(post_id: int) -> str:
    """Likes and comments on one post."""
    return f"{PREFIX}post:{post_id}"


def user_channel(user_id: int) -> str:
    """What concerns one user: their notifications."""
    return f"{PREFIX}user:{user_id}"


def thread_channel(thread_id: int) -> str:
    """New messages in one direct-message thread."""
    return f"{PREFIX}thread:{thread_id}"


def sessions_channel() -> str:
    """Revoked sessions: every process closes the sockets that the session opened."""
    return f"{PREFIX}sessions"


def channel_of(event: Event) -> str:
    match event:
        case PostLiked(post_id=post_id) | CommentAdded(post_id=post_id):
            return post_channel(post_id)
        case MessageReceived(thread_id=thread_id):
            return thread_channel(thread_id)
        case NotificationReceived(user_id=user_id):
            return user_channel(user_id)
        case SessionRevoked():
            return sessions_channel()
