"""The `threads` and `messages` collections: direct messages between 2 to 32 people.

A thread is found by its exact set of participants (a unique key over the sorted ids), so
writing to the same people twice lands in the same thread. Its messages carry a per-thread
`seq` 1, 2, 3, ... with no gap: a message's seq is one more than the thread's highest
stored seq, and the insert claims it through a unique (thread, seq) index. No counter is
taken ahead of the insert, so a failed or retried send cannot leave a number unused; a
send that lost the race for a seq reads the new highest one and tries the next.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from storage.mongo import Collection, Document

# Sends that lose the race for a seq to another process try again; each loss means another
# message was stored, so this bounds only how busy a thread may be, never correctness.
MAX_SEQ_ATTEMPTS = 64
NO_ACTIVITY = 0  # the activity key of a thread without a message yet: kept out of inboxes


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    id: int
    participant_ids: tuple[int, ...]  # sorted
    last_seq: int  # the highest seq recorded on the thread (0: no message yet)
    last_message_id: int | None
    activity_key: int  # the last message's id: inboxes order by it, newest first
    read_seqs: dict[int, int]  # participant -> the highest seq they have read
    created_at: datetime

    def unread_count(self, user_id: int) -> int:
        return max(self.last_seq - self.read_seqs.get(user_id, 0), 0)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    thread_id: int
    seq: int
    sender_id: int
    text: str
    created_at: datetime


class MessageSeqContended(RuntimeError):
    """Other sends took every seq this one tried (MAX_SEQ_ATTEMPTS times)."""


# A thread of two is one person's conversation with another: it cannot be left, only a
# group can (Instagram's rule); the two left behind by a leaver still have a thread.
MIN_GROUP_TO_LEAVE = 3


def participant_key(participant_ids: Iterable[int]) -> str:
    """The thread's identity: one key per set of people, whatever the order they are named."""
    joined = ",".join(str(user_id) for user_id in sorted(set(participant_ids)))
    return hashlib.sha256(joined.encode()).hexdigest()


def _client_key(sender_id: int, client_id: str) -> str:
    return f"{sender_id}:{client_id}"


def _thread(document: Document) -> ThreadRecord:
    return ThreadRecord(
        id=document["_id"],
        participant_ids=tuple(document["participant_ids"]),
        last_seq=document.get("last_seq", 0),
        last_message_id=document.get("last_message_id"),
        activity_key=document.get("activity_key", NO_ACTIVITY),
        read_seqs={int(user): seq for user, seq in document.get("read_seqs", {}).items()},
        created_at=document["created_at"],
    )


def _message(document: Document) -> MessageRecord:
    return MessageRecord(
        id=document["_id"],
        thread_id=document["thread_id"],
        seq=document["seq"],
        sender_id=document["sender_id"],
        text=document["text"],
        created_at=document["created_at"],
    )


class MessageStore:
    def __init__(self, threads: Collection, messages: Collection) -> None:
        self._threads = threads
        self._messages = messages
        # Sends to one thread from this process take turns, so they do not race each other
        # for seqs (which would cost a retry per lost race); other processes still can.
        self._turns: dict[int, _Turn] = {}

    async def create_indexes(self) -> None:
        await self._threads.create_indexes(
            [
                IndexModel([("participant_key", ASCENDING)], unique=True),
                # An inbox: the viewer's threads, most recently active first.
                IndexModel([("participant_ids", ASCENDING), ("activity_key", DESCENDING)]),
            ]
        )
        await self._messages.create_indexes(
            [
                IndexModel([("thread_id", ASCENDING), ("seq", ASCENDING)], unique=True),
                IndexModel([("client_key", ASCENDING)], unique=True),
            ]
        )

    async def find_thread_by_participants(
        self, participant_ids: Iterable[int]
    ) -> ThreadRecord | None:
        document = await self._threads.find_one(
            {"participant_key": participant_key(participant_ids)}
        )
        return None if document is None else _thread(document)

    async def find_or_create_thread(
        self, thread_id: int, participant_ids: Sequence[int], created_at: datetime
    ) -> ThreadRecord:
        """The thread of exactly these people: the existing one, or a new one with `thread_id`
        (concurrent first messages to the same people agree on one thread)."""
        key = participant_key(participant_ids)
        document: Document = {
            "_id": thread_id,
            "participant_ids": sorted(set(participant_ids)),
            "participant_key": key,
            "last_seq": 0,
            "last_message_id": None,
            "activity_key": NO_ACTIVITY,
            "read_seqs": {},
            "created_at": created_at,
        }
        try:
            await self._threads.insert_one(document)
        except DuplicateKeyError:
            existing = await self._threads.find_one({"participant_key": key})
            if existing is None:  # pragma: no cover - threads are never deleted
                raise
            return _thread(existing)
        return _thread(document)

    async def find_threads_by_ids(self, thread_ids: Iterable[int]) -> dict[int, ThreadRecord]:
        cursor = self._threads.find({"_id": {"$in": list(thread_ids)}})
        return {document["_id"]: _thread(document) async for document in cursor}

    async def inbox_page(
        self, user_id: int, *, before_key: int | None, limit: int
    ) -> list[ThreadRecord]:
        """The user's threads with a message, most recently active first."""
        activity: Document = {"$gt": NO_ACTIVITY}
        if before_key is not None:
            activity["$lt"] = before_key
        cursor = (
            self._threads.find({"participant_ids": user_id, "activity_key": activity})
            .sort("activity_key", DESCENDING)
            .limit(limit)
        )
        return [_thread(document) async for document in cursor]

    async def find_messages_by_ids(self, message_ids: Iterable[int]) -> dict[int, MessageRecord]:
        cursor = self._messages.find({"_id": {"$in": list(message_ids)}})
        return {document["_id"]: _message(document) async for document in cursor}

    async def find_by_client_id(self, sender_id: int, client_id: str) -> MessageRecord | None:
        document = await self._messages.find_one({"client_key": _client_key(sender_id, client_id)})
        return None if document is None else _message(document)

    async def messages_after(
        self, thread_id: int, after_seq: int, limit: int
    ) -> list[MessageRecord]:
        """Oldest first: the messages with a seq above `after_seq`."""
        cursor = (
            self._messages.find({"thread_id": thread_id, "seq": {"$gt": after_seq}})
            .sort("seq", ASCENDING)
            .limit(limit)
        )
        return [_message(document) async for document in cursor]

    async def messages_before(
        self, thread_id: int, before_seq: int, limit: int
    ) -> list[MessageRecord]:
        """Newest first: the messages with a seq below `before_seq`."""
        cursor = (
            self._messages.find({"thread_id": thread_id, "seq": {"$lt": before_seq}})
            .sort("seq", DESCENDING)
            .limit(limit)
        )
        return [_message(document) async for document in cursor]

    async def append(
        self,
        *,
        message_id: int,
        thread_id: int,
        sender_id: int,
        text: str,
        client_id: str,
        created_at: datetime,
    ) -> MessageRecord:
        """Store the message with the thread's next seq; a send whose `client_id` the sender
        used before stores nothing and returns the first message instead."""
        async with self._turn(thread_id):
            for _ in range(MAX_SEQ_ATTEMPTS):
                message = MessageRecord(
                    id=message_id,
                    thread_id=thread_id,
                    seq=await self._highest_seq(thread_id) + 1,
                    sender_id=sender_id,
                    text=text,
                    created_at=created_at,
                )
                try:
                    await self._messages.insert_one(
                        {
                            "_id": message.id,
                            "thread_id": thread_id,
                            "seq": message.seq,
                            "sender_id": sender_id,
                            "text": text,
                            "client_key": _client_key(sender_id, client_id),
                            "created_at": created_at,
                        }
                    )
                except DuplicateKeyError:
                    earlier = await self.find_by_client_id(sender_id, client_id)
                    if earlier is not None:
                        return earlier  # a retry of this send got there first
                    continue  # another process took the seq: read the new highest one
                await self._record_on_thread(message)
                return message
        raise MessageSeqContended(f"thread {thread_id}: no free seq in {MAX_SEQ_ATTEMPTS} tries")

    async def _highest_seq(self, thread_id: int) -> int:
        cursor = (
            self._messages.find({"thread_id": thread_id}, {"seq": 1})
            .sort("seq", DESCENDING)
            .limit(1)
        )
        async for document in cursor:
            return int(document["seq"])
        return 0

    async def _record_on_thread(self, message: MessageRecord) -> None:
        """The thread's last message and activity, unless a later seq is recorded already;
        the sender has read what they answered."""
        reader = f"read_seqs.{message.sender_id}"
        result = await self._threads.update_one(
            {"_id": message.thread_id, "last_seq": {"$lt": message.seq}},
            {
                "$set": {"last_seq": message.seq, "last_message_id": message.id},
                "$max": {"activity_key": message.id, reader: message.seq},
            },
        )
        if not result.matched_count:
            await self._threads.update_one(
                {"_id": message.thread_id}, {"$max": {reader: message.seq}}
            )

    async def leave(self, thread_id: int, user_id: int) -> ThreadRecord | None:
        """Take `user_id` out of the thread if it has `MIN_GROUP_TO_LEAVE` people or more; the
        thread as it is now, or None when they were not in it or it is smaller. The others
        keep it, history included; it is no longer the thread of any set of people (a key
        of its own), so naming its remaining people starts a thread of theirs."""
        document = await self._threads.find_one_and_update(
            {
                "_id": thread_id,
                "participant_ids": user_id,
                f"participant_ids.{MIN_GROUP_TO_LEAVE - 1}": {"$exists": True},
            },
            {
                "$pull": {"participant_ids": user_id},
                "$set": {"participant_key": f"left:{thread_id}"},
            },
            return_document=ReturnDocument.AFTER,
        )
        return None if document is None else _thread(document)

    async def mark_read(self, thread_id: int, user_id: int, seq: int) -> ThreadRecord | None:
        """Raise the user's read seq to `seq` (never lower it); the thread as it is now."""
        document = await self._threads.find_one_and_update(
            {"_id": thread_id},
            {"$max": {f"read_seqs.{user_id}": seq}},
            return_document=ReturnDocument.AFTER,
        )
        return None if document is None else _thread(document)

    @asynccontextmanager
    async def _turn(self, thread_id: int) -> AsyncIterator[None]:
        turn = self._turns.setdefault(thread_id, _Turn())
        turn.senders += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.senders -= 1
            if not turn.senders:  # the last sender forgets the thread's lock
                self._turns.pop(thread_id, None)


@dataclass(slots=True)
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    senders: int = 0  # holding or waiting for the lock
