"""Fan-out jobs: a Redis Stream read by a consumer group, with a MongoDB outbox for the jobs
that could not reach Redis.

At least once: a job leaves the stream only when a worker acknowledges it, after doing it;
jobs a crashed worker left pending are claimed by another after FANOUT_CLAIM_IDLE_MS. Jobs
are idempotent (adding a post to a feed twice leaves it there once), so redoing is safe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from redis.exceptions import RedisError, ResponseError

from storage.mongo import Collection
from storage.redis import Redis

logger = logging.getLogger(__name__)

STREAM = "fanout"
GROUP = "fanout-workers"
FANOUT_CLAIM_IDLE_MS = 60_000  # a job untouched this long belongs to a worker that died


@dataclass(frozen=True, slots=True)
class FanoutJob:
    op: str  # "push" or "unpush"
    post_id: int
    author_id: int

    def fields(self) -> dict[str, str]:
        return {"op": self.op, "post_id": str(self.post_id), "author_id": str(self.author_id)}

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> FanoutJob:
        return cls(
            op=fields[b"op"].decode(),
            post_id=int(fields[b"post_id"]),
            author_id=int(fields[b"author_id"]),
        )


class FanoutQueue:
    def __init__(
        self, redis: Redis, outbox: Collection, *, claim_idle_ms: int = FANOUT_CLAIM_IDLE_MS
    ) -> None:
        self._redis = redis
        self._outbox = outbox
        self._claim_idle_ms = claim_idle_ms

    async def create_indexes(self) -> None:
        await self._outbox.create_indexes([IndexModel([("created_at", ASCENDING)])])

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def enqueue(self, job: FanoutJob, *, now: datetime) -> None:
        """Publish the job; while Redis is unreachable, keep it in MongoDB instead."""
        try:
            await self._redis.xadd(STREAM, job.fields())  # type: ignore[arg-type]
        except RedisError as error:
            logger.warning("fan-out job kept in the outbox, Redis failed: %s", error)
            await self._outbox.insert_one({**job.fields(), "created_at": now})

    async def relay_outbox(self) -> int:
        """Publish the jobs kept in MongoDB, oldest first; how many went out."""
        relayed = 0
        async for document in self._outbox.find().sort("created_at", ASCENDING):
            job = FanoutJob(document["op"], int(document["post_id"]), int(document["author_id"]))
            await self._redis.xadd(STREAM, job.fields())  # type: ignore[arg-type]
            await self._outbox.delete_one({"_id": document["_id"]})
            relayed += 1
        return relayed

    async def read(
        self, consumer: str, *, count: int, block_ms: int
    ) -> list[tuple[str, FanoutJob]]:
        """New jobs for this consumer, waiting up to `block_ms` for one."""
        response: Any = await self._redis.xreadgroup(
            GROUP, consumer, {STREAM: ">"}, count=count, block=block_ms
        )
        return [
            (entry_id.decode(), FanoutJob.from_fields(fields))
            for _, entries in response or []
            for entry_id, fields in entries
        ]

    async def claim_stale(self, consumer: str, *, count: int) -> list[tuple[str, FanoutJob]]:
        """Jobs left pending by a worker that stopped, now this consumer's."""
        claimed: Any = await self._redis.xautoclaim(
            STREAM, GROUP, consumer, min_idle_time=self._claim_idle_ms, start_id="0-0", count=count
        )
        _, entries, _ = claimed
        return [
            (entry_id.decode(), FanoutJob.from_fields(fields))
            for entry_id, fields in entries
            if fields is not None  # an entry deleted since it was read
        ]

    async def ack(self, entry_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(STREAM, GROUP, entry_id)
            pipe.xdel(STREAM, entry_id)
            await pipe.execute()
