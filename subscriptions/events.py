"""What the bus carries: ids and small facts, never entities.

A receiver loads what an event names with fresh loaders and checks that it may still see it,
so an event never leaks content and never goes stale in flight. Events are encoded compactly
(orjson, a short type tag) and decoded strictly: anything that is not exactly one of these
events is refused with `MalformedEvent`.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

import orjson

TYPE_FIELD = "t"  # the type tag; one letter keeps every message on the wire small


@dataclass(frozen=True, slots=True)
class PostLiked:
    post_id: int
    actor_id: int


@dataclass(frozen=True, slots=True)
class CommentAdded:
    post_id: int
    comment_id: int


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A message stored in a thread, announced to one of its participants (`user_id`): one
    event per participant, on that participant's own channel (see channels.py)."""

    user_id: int
    thread_id: int
    message_id: int
    seq: int


@dataclass(frozen=True, slots=True)
class NotificationReceived:
    user_id: int
    notification_id: int


@dataclass(frozen=True, slots=True)
class ReelProcessed:
    reel_id: int  # its processing ended: READY, or FAILED with a reason


@dataclass(frozen=True, slots=True)
class SessionRevoked:
    session_id: str  # the session's token hash: its id in storage, never the token itself


Event = (
    PostLiked
    | CommentAdded
    | MessageReceived
    | NotificationReceived
    | ReelProcessed
    | SessionRevoked
)

EVENT_TYPES: dict[str, type[Event]] = {
    event_type.__name__: event_type
    for event_type in (
        PostLiked,
        CommentAdded,
        MessageReceived,
        NotificationReceived,
        ReelProcessed,
        SessionRevoked,
    )
}


class MalformedEvent(ValueError):
    """A message on a channel that is not one of our events (another writer, another version)."""


def encode(event: Event) -> str:
    return orjson.dumps({TYPE_FIELD: type(event).__name__, **dataclasses.asdict(event)}).decode()


def decode(message: str | bytes) -> Event:
    try:
        document = orjson.loads(message)
    except orjson.JSONDecodeError as error:
        raise MalformedEvent(f"not JSON: {error}") from error
    if not isinstance(document, dict):
        raise MalformedEvent("not a JSON object")
    event_type = EVENT_TYPES.get(document.pop(TYPE_FIELD, None))
    if event_type is None:
        raise MalformedEvent(f"no known event type in {TYPE_FIELD!r}")
    expected = _field_types(event_type)
    if document.keys() != expected.keys():
        raise MalformedEvent(f"{event_type.__name__} needs exactly the fields {sorted(expected)}")
    for name, value in document.items():
        # bool is an int to isinstance; an id is never true or false.
        if isinstance(value, bool) or not isinstance(value, expected[name]):
            raise MalformedEvent(f"{event_type.__name__}.{name} must be {expected[name].__name__}")
    return event_type(**document)


def _field_types(event_type: type[Event]) -> dict[str, type]:
    hints = typing.get_type_hints(event_type)
    return {field.name: hints[field.name] for field in dataclasses.fields(event_type)}
