"""Background jobs (fan-out, notifications: `storage/notification.py`, and video processing:
`storage/video.py`): a Redis Stream
read by a consumer group, with a MongoDB outbox for the jobs that could not reach Redis, and
a dead-letter stream for the jobs that cannot be done. An entry's `kind` field says which
job it is; an entry without one is a fan-out job, as every entry was before notifications.

At least once: a job leaves the stream only when a worker acknowledges it, after doing it;
jobs a crashed worker left pending are claimed by another after FANOUT_CLAIM_IDLE_MS, which
counts one more delivery. Jobs are idempotent (adding a post to a feed twice leaves it there
once), so redoing is safe. `queue_key` builds every Redis key of the queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, IndexModel
from redis.exceptions import RedisError, ResponseError

from storage.mongo import Collection
from storage.notification import JOB_KIND as NOTIFICATION_JOB_KIND
from storage.notification import NotificationJob
from storage.redis import Redis
from storage.video import JOB_KIND as VIDEO_JOB_KIND
from storage.video import VideoJob

logger = logging.getLogger(__name__)

GROUP = "fanout-workers"
FANOUT_CLAIM_IDLE_MS = 60_000  # a job untouched this long belongs to a worker that died
# Dead letters wait for a person to look at them; the cap keeps a flood of bad jobs from
# filling Redis (approximate trimming, which Redis does in whole nodes, cheaply).
DEAD_LETTERS_MAX = 10_000
OUTBOX_BOOKKEEPING = ("_id", "created_at")  # an outbox document's fields that are not the job's
KIND_FIELD = b"kind"


class QueueStream(StrEnum):
    JOBS = "jobs"
    DEAD_LETTERS = "dead-letters"


def queue_key(stream: QueueStream) -> str:
    return f"fanout:{stream.value}"


class FanoutOp(StrEnum):
    PUSH = "push"  # a new post joins its author's followers' feeds
    UNPUSH = "unpush"  # a deleted post leaves them
    # A new story's author joins the followers' story trays; `post_id` holds the story's id.
    STORY_PUSH = "story-push"


class MalformedJob(ValueError):
    """A stream entry that is not a job: redoing it can never succeed."""


@dataclass(frozen=True, slots=True)
class FanoutJob:
    op: FanoutOp
    post_id: int
    author_id: int

    def fields(self) -> dict[str, str]:
        return {"op": self.op.value, "post_id": str(self.post_id), "author_id": str(self.author_id)}

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> FanoutJob:
        try:
            return cls(
                op=FanoutOp(fields[b"op"].decode()),
                post_id=int(fields[b"post_id"]),
                author_id=int(fields[b"author_id"]),
            )
        except (KeyError, ValueError, UnicodeDecodeError) as error:
            raise MalformedJob(f"not a fan-out job: {fields!r} ({error!r})") from error


Job = FanoutJob | NotificationJob | VideoJob


def job_of(fields: dict[bytes, bytes]) -> Job:
    """The job a stream entry holds; MalformedJob when it holds none."""
    kind = fields.get(KIND_FIELD)
    if kind is None:
        return FanoutJob.from_fields(fields)
    if kind == NOTIFICATION_JOB_KIND.encode():
        try:
            return NotificationJob.from_fields(fields)
        except (KeyError, ValueError, UnicodeDecodeError) as error:
            raise MalformedJob(f"not a notification job: {fields!r} ({error!r})") from error
    if kind == VIDEO_JOB_KIND.encode():
        try:
            return VideoJob.from_fields(fields)
        except (KeyError, ValueError, UnicodeDecodeError) as error:
            raise MalformedJob(f"not a video job: {fields!r} ({error!r})") from error
    raise MalformedJob(f"no job of kind {kind!r}: {fields!r}")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of a stream entry to this consumer; `deliveries` counts this one."""

    entry_id: str
    fields: dict[bytes, bytes]
    deliveries: int

    def job(self) -> Job:
        return job_of(self.fields)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    entry_id: str  # the job's id in the job stream
    fields: dict[str, str]  # the job's fields as they were
    error: str
    deliveries: int


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int  # delivered to a worker, not acknowledged yet
    lag: int  # not delivered to any worker yet
    oldest_job_seconds: float | None  # since the oldest job not done was enqueued
    oldest_pending_idle_seconds: float | None  # since the longest-waiting pending job was delivered
    dead_letters: int


class FanoutQueue:
    def __init__(
        self, redis: Redis, outbox: Collection, *, claim_idle_ms: int = FANOUT_CLAIM_IDLE_MS
    ) -> None:
        self._redis = redis
        self._outbox = outbox
        self.claim_idle_ms = claim_idle_ms

    async def create_indexes(self) -> None:
        await self._outbox.create_indexes([IndexModel([("created_at", ASCENDING)])])

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(
                queue_key(QueueStream.JOBS), GROUP, id="0", mkstream=True
            )
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def enqueue(self, job: Job, *, now: datetime) -> None:
        """Publish the job; while Redis is unreachable, keep it in MongoDB instead."""
        try:
            await self._redis.xadd(queue_key(QueueStream.JOBS), job.fields())  # type: ignore[arg-type]
        except RedisError as error:
            logger.warning("job kept in the outbox, Redis failed: %s", error)
            await self._outbox.insert_one({**job.fields(), "created_at": now})

    async def relay_outbox(self) -> int:
        """Publish the jobs kept in MongoDB, oldest first; how many went out. The fields are
        copied as they are: a document that is not a job becomes an entry the worker
        dead-letters, instead of stopping the relay of the others."""
        relayed = 0
        async for document in self._outbox.find().sort("created_at", ASCENDING):
            fields = {
                name: str(value)
                for name, value in document.items()
                if name not in OUTBOX_BOOKKEEPING
            } or {"outbox_id": str(document["_id"])}  # an entry has a field at least
            await self._redis.xadd(queue_key(QueueStream.JOBS), fields)  # type: ignore[arg-type]
            await self._outbox.delete_one({"_id": document["_id"]})
            relayed += 1
        return relayed

    async def read(self, consumer: str, *, count: int, block_ms: int) -> list[Delivery]:
        """New jobs for this consumer, waiting up to `block_ms` for one."""
        response: Any = await self._redis.xreadgroup(
            GROUP, consumer, {queue_key(QueueStream.JOBS): ">"}, count=count, block=block_ms
        )
        return [
            Delivery(entry_id.decode(), fields, deliveries=1)
            for _, entries in response or []
            for entry_id, fields in entries
        ]

    async def claim_stale(self, consumer: str, *, count: int) -> list[Delivery]:
        """Jobs left pending by a worker that stopped, or that failed, now this consumer's."""
        stream = queue_key(QueueStream.JOBS)
        claimed: Any = await self._redis.xautoclaim(
            stream, GROUP, consumer, min_idle_time=self.claim_idle_ms, start_id="0-0", count=count
        )
        entries = [(entry_id, fields) for entry_id, fields in claimed[1] if fields is not None]
        if not entries:  # None: an entry deleted since it was read
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id, _ in entries:
                pipe.xpending_range(
                    stream, GROUP, min=entry_id, max=entry_id, count=1, consumername=consumer
                )
            details: list[Any] = await pipe.execute()
        return [
            Delivery(entry_id.decode(), fields, deliveries=_times_delivered(detail))
            for (entry_id, fields), detail in zip(entries, details, strict=True)
        ]

    async def ack(self, entry_id: str) -> None:
        stream = queue_key(QueueStream.JOBS)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            await pipe.execute()

    async def dead_letter(self, delivery: Delivery, error: str) -> None:
        """Move the job to the dead-letter stream with why it failed, in one transaction:
        it is in exactly one of the two streams whatever happens."""
        stream = queue_key(QueueStream.JOBS)
        letter = {
            **{name.decode(errors="replace"): value for name, value in delivery.fields.items()},
            "entry_id": delivery.entry_id,
            "error": error,
            "deliveries": str(delivery.deliveries),
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                queue_key(QueueStream.DEAD_LETTERS),
                letter,  # type: ignore[arg-type]
                maxlen=DEAD_LETTERS_MAX,
                approximate=True,
            )
            pipe.xack(stream, GROUP, delivery.entry_id)
            pipe.xdel(stream, delivery.entry_id)
            await pipe.execute()

    async def dead_letters(self, *, count: int) -> list[DeadLetter]:
        """The oldest dead letters first."""
        entries: Any = await self._redis.xrange(
            queue_key(QueueStream.DEAD_LETTERS), "-", "+", count=count
        )
        letters = []
        for _, raw in entries:
            fields = {name.decode(): value.decode(errors="replace") for name, value in raw.items()}
            letters.append(
                DeadLetter(
                    entry_id=fields.pop("entry_id"),
                    error=fields.pop("error"),
                    deliveries=int(fields.pop("deliveries")),
                    fields=fields,
                )
            )
        return letters

    async def stats(self) -> QueueStats:
        """How far behind the workers are, for /readyz."""
        stream = queue_key(QueueStream.JOBS)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xlen(stream)
            pipe.xpending(stream, GROUP)
            pipe.xrange(stream, "-", "+", count=1)
            pipe.xlen(queue_key(QueueStream.DEAD_LETTERS))
            pipe.time()
            replies = await pipe.execute(raise_on_error=False)
        length, summary, oldest, dead, (seconds, microseconds) = replies
        if isinstance(summary, ResponseError) and "NOGROUP" in str(summary):
            summary = {"pending": 0}  # no worker started yet: every job is still to deliver
        elif isinstance(summary, Exception):
            raise summary
        now_ms = seconds * 1_000 + microseconds / 1_000
        oldest_pending_idle = None
        if summary["pending"]:
            first: Any = await self._redis.xpending_range(
                stream, GROUP, min=summary["min"], max=summary["min"], count=1
            )
            if first:
                oldest_pending_idle = first[0]["time_since_delivered"] / 1_000
        return QueueStats(
            pending=summary["pending"],
            # Done jobs are deleted, so the stream holds exactly the pending and the new ones.
            lag=length - summary["pending"],
            oldest_job_seconds=(now_ms - _enqueued_ms(oldest[0][0])) / 1_000 if oldest else None,
            oldest_pending_idle_seconds=oldest_pending_idle,
            dead_letters=dead,
        )


def _times_delivered(detail: list[dict[str, Any]]) -> int:
    # A claimed entry is pending for this consumer; if it is not listed it was acknowledged
    # in between, and a first delivery is the safe guess.
    return int(detail[0]["times_delivered"]) if detail else 1


def _enqueued_ms(entry_id: bytes) -> int:
    """A stream entry id starts with the Redis server's clock when it was added."""
    return int(entry_id.split(b"-")[0])
