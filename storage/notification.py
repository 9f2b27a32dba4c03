"""The `notifications` collection, the read markers beside it, and the job that writes them.

One document per notification, unique per (receiver, `group`): the group names what the
notification is about, so the job that writes it is idempotent (a redelivered job upserts
the same document) and grouping is one upsert:

- LIKE: one per (receiver, post), whatever the number of likers. The job recomputes it
  from the `likes` collection (the truth about who liked), so a retry, a redelivery or an
  unlike leaves exactly what the likes say: the latest STORED_ACTORS likers and the exact
  count. No liker left: the document is deleted.
- FOLLOW / FOLLOW_REQUEST: one per (receiver, follower): an approved request becomes the
  follow it turned into; a withdrawn or declined one is deleted.
- COMMENT, MENTION (of a caption or a comment), MESSAGE: one per thing that caused it.

`key` orders a receiver's notifications and is their keyset: the id (time-ordered) of the
latest event a notification tells of (the latest like, the comment, the follow, ...), so a
group that gains a liker moves to the top. A user's read marker is a key too: everything
at or below it is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from storage.ids import id_to_datetime
from storage.mongo import Collection, Document

# The latest actors a grouped notification keeps: the 3 it shows (as Instagram's "a, b, c
# and 12 others"), and room for some of those to be hidden later (a block) and still show 3.
STORED_ACTORS = 10
JOB_KIND = "notification"  # the `kind` field of a notification job on the job stream


class NotificationKind(StrEnum):
    LIKE = "LIKE"
    COMMENT = "COMMENT"
    FOLLOW = "FOLLOW"
    FOLLOW_REQUEST = "FOLLOW_REQUEST"
    MENTION = "MENTION"
    MESSAGE = "MESSAGE"


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    id: int
    receiver_id: int
    kind: NotificationKind
    key: int  # the id of the latest event it tells of: the order of the list, and its keyset
    actor_ids: tuple[int, ...]  # latest first, at most STORED_ACTORS
    actor_count: int  # every actor, not only the stored ones
    post_id: int | None
    comment_id: int | None
    message_id: int | None

    @property
    def created_at(self) -> datetime:
        """When its latest event happened."""
        return id_to_datetime(self.key)


def like_group(post_id: int) -> str:
    return f"like:{post_id}"


def follow_group(follower_id: int) -> str:
    return f"follow:{follower_id}"


def comment_group(comment_id: int) -> str:
    return f"comment:{comment_id}"


def post_mention_group(post_id: int) -> str:
    return f"mention:post:{post_id}"


def comment_mention_group(comment_id: int) -> str:
    return f"mention:comment:{comment_id}"


def message_group(message_id: int) -> str:
    return f"message:{message_id}"


def _record(document: Document) -> NotificationRecord:
    return NotificationRecord(
        id=document["_id"],
        receiver_id=document["receiver_id"],
        kind=NotificationKind(document["kind"]),
        key=document["key"],
        actor_ids=tuple(document["actor_ids"]),
        actor_count=document["actor_count"],
        post_id=document.get("post_id"),
        comment_id=document.get("comment_id"),
        message_id=document.get("message_id"),
    )


class NotificationCause(StrEnum):
    """What a notification job was queued for; each names its subject (`subject_id`)."""

    LIKES = "likes"  # a post was liked or unliked: the post
    COMMENT = "comment"  # a comment was written: the comment
    POST = "post"  # a post was made (its caption's mentions): the post
    FOLLOW = "follow"  # a follow began, was asked for, approved, declined or withdrawn: the
    # followee (the follower is the actor)
    MESSAGE = "message"  # a message was sent: the message


@dataclass(frozen=True, slots=True)
class NotificationJob:
    """Queued by a mutation, done by the worker (jobs/notification.py): off the mutation's
    path. The job reads the truth from the stores, so doing it twice, late, or after a
    later job of the same subject, writes the same notifications."""

    cause: NotificationCause
    subject_id: int
    actor_id: int

    def fields(self) -> dict[str, str]:
        return {
            "kind": JOB_KIND,
            "cause": self.cause.value,
            "subject_id": str(self.subject_id),
            "actor_id": str(self.actor_id),
        }

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> NotificationJob:
        """Raises KeyError, ValueError or UnicodeDecodeError for what is not such a job."""
        return cls(
            cause=NotificationCause(fields[b"cause"].decode()),
            subject_id=int(fields[b"subject_id"]),
            actor_id=int(fields[b"actor_id"]),
        )


@dataclass(frozen=True, slots=True)
class NotificationWrite:
    """What one notification should hold now, as a job computed it."""

    receiver_id: int
    group: str
    kind: NotificationKind
    key: int
    actor_ids: tuple[int, ...]
    actor_count: int
    post_id: int | None = None
    comment_id: int | None = None
    message_id: int | None = None

    def record(self, notification_id: int) -> NotificationRecord:
        return NotificationRecord(
            id=notification_id,
            receiver_id=self.receiver_id,
            kind=self.kind,
            key=self.key,
            actor_ids=self.actor_ids,
            actor_count=self.actor_count,
            post_id=self.post_id,
            comment_id=self.comment_id,
            message_id=self.message_id,
        )


class NotificationStore:
    def __init__(self, notifications: Collection, markers: Collection) -> None:
        self._notifications = notifications
        self._markers = markers  # _id: user id, read_key: the highest key they have read

    async def create_indexes(self) -> None:
        await self._notifications.create_indexes(
            [
                IndexModel([("receiver_id", ASCENDING), ("group", ASCENDING)], unique=True),
                IndexModel([("receiver_id", ASCENDING), ("key", DESCENDING)]),
            ]
        )

    async def put(
        self, write: NotificationWrite, *, new_id: int
    ) -> tuple[NotificationRecord, bool]:
        """Make the receiver's notification of `write.group` hold `write` (creating it with
        `new_id`); returns it, and whether it is news: new, or told of a later event than
        before. Putting the same write again changes nothing and is no news."""
        fields: Document = {
            "kind": write.kind.value,
            "key": write.key,
            "actor_ids": list(write.actor_ids),
            "actor_count": write.actor_count,
            "post_id": write.post_id,
            "comment_id": write.comment_id,
            "message_id": write.message_id,
        }
        before = await self._notifications.find_one_and_update(
            {"receiver_id": write.receiver_id, "group": write.group},
            {"$set": fields, "$setOnInsert": {"_id": new_id}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            return write.record(new_id), True
        return write.record(before["_id"]), write.key > before["key"]

    async def remove(
        self, receiver_id: int, group: str, *, kind: NotificationKind | None = None
    ) -> None:
        """Delete the receiver's notification of `group` (only one of `kind`, if given)."""
        query: Document = {"receiver_id": receiver_id, "group": group}
        if kind is not None:
            query["kind"] = kind.value
        await self._notifications.delete_one(query)

    async def find_by_ids(self, notification_ids: Iterable[int]) -> dict[int, NotificationRecord]:
        cursor = self._notifications.find({"_id": {"$in": list(notification_ids)}})
        return {document["_id"]: _record(document) async for document in cursor}

    async def page(
        self, receiver_id: int, *, before_key: int | None, limit: int, after_key: int | None = None
    ) -> list[NotificationRecord]:
        """The receiver's notifications, latest first: below `before_key` when given, and
        above `after_key` (the unread ones, after a read marker) when given."""
        query: Document = {"receiver_id": receiver_id}
        bounds: Document = {}
        if before_key is not None:
            bounds["$lt"] = before_key
        if after_key is not None:
            bounds["$gt"] = after_key
        if bounds:
            query["key"] = bounds
        cursor = self._notifications.find(query).sort("key", DESCENDING).limit(limit)
        return [_record(document) async for document in cursor]

    async def read_keys(self, user_ids: Iterable[int]) -> dict[int, int]:
        """Each user's read marker; 0 (nothing read) for one who never marked."""
        ids = list(user_ids)
        cursor = self._markers.find({"_id": {"$in": ids}})
        found = {document["_id"]: document["read_key"] async for document in cursor}
        return {user_id: found.get(user_id, 0) for user_id in ids}

    async def mark_read(self, user_id: int, key: int) -> None:
        """Everything at or below `key` is read; a marker never moves back."""
        await self._markers.update_one({"_id": user_id}, {"$max": {"read_key": key}}, upsert=True)
