"""Events on the bus: ids and small facts, encoded compactly, decoded strictly."""

from __future__ import annotations

import orjson
import pytest

from subscriptions.events import (
    CommentAdded,
    MalformedEvent,
    MessageReceived,
    NotificationReceived,
    PostLiked,
    SessionRevoked,
    decode,
    encode,
)

EVERY_KIND = [
    PostLiked(post_id=1, actor_id=2),
    CommentAdded(post_id=1, comment_id=3),
    MessageReceived(user_id=4, thread_id=4, message_id=5, seq=5),
    NotificationReceived(user_id=6, notification_id=7),
    SessionRevoked(session_id="a" * 64),
]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda event: type(event).__name__)
def test_every_event_decodes_to_what_was_encoded(event: object) -> None:
    assert decode(encode(event)) == event  # type: ignore[arg-type]


def test_an_event_is_encoded_as_its_ids_and_a_short_type_tag() -> None:
    encoded = encode(PostLiked(post_id=2**62, actor_id=9))

    assert orjson.loads(encoded) == {"t": "PostLiked", "post_id": 2**62, "actor_id": 9}


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"post_id": 1, "actor_id": 2}', "no known event type"),
        ('{"t": "PostDeleted", "post_id": 1}', "no known event type"),
        ('{"t": "PostLiked", "post_id": 1}', "exactly the fields"),
        ('{"t": "PostLiked", "post_id": 1, "actor_id": 2, "text": "hi"}', "exactly the fields"),
        ('{"t": "PostLiked", "post_id": "1", "actor_id": 2}', "post_id must be int"),
        ('{"t": "PostLiked", "post_id": true, "actor_id": 2}', "post_id must be int"),
        ('{"t": "SessionRevoked", "session_id": 5}', "session_id must be str"),
    ],
)
def test_anything_but_exactly_one_of_our_events_is_refused(message: str, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        decode(message)
