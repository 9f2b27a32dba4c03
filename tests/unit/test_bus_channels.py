"""Channel names come from one module, and each event knows its channel."""

from __future__ import annotations

from subscriptions.channels import (
    channel_of,
    post_channel,
    sessions_channel,
    user_channel,
)
from subscriptions.events import (
    CommentAdded,
    MessageReceived,
    NotificationReceived,
    PostLiked,
    SessionRevoked,
)


def test_likes_and_comments_go_to_their_posts_channel() -> None:
    assert channel_of(PostLiked(post_id=7, actor_id=1)) == post_channel(7)
    assert channel_of(CommentAdded(post_id=7, comment_id=2)) == post_channel(7)


def test_messages_go_to_each_receivers_channel() -> None:
    event = MessageReceived(user_id=3, thread_id=8, message_id=1, seq=1)
    assert channel_of(event) == user_channel(3)


def test_notifications_go_to_their_receivers_channel() -> None:
    assert channel_of(NotificationReceived(user_id=5, notification_id=9)) == user_channel(5)


def test_revoked_sessions_go_to_the_one_sessions_channel() -> None:
    assert channel_of(SessionRevoked(session_id="abc")) == sessions_channel()


def test_channels_of_different_things_with_the_same_id_differ() -> None:
    names = {post_channel(1), user_channel(1), sessions_channel()}

    assert len(names) == 3
    assert all(name.startswith("pictograph:") for name in names)
