"""A read-through cache of records in Redis, in front of MongoDB.

Writers delete keys rather than update them: a delete is idempotent and cannot race a
concurrent reader into caching an older value for longer than one read. Any Redis error
counts as a miss, so reads keep working from MongoDB while Redis is down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Generic

from redis.exceptions import RedisError

from storage.records import RecordT, decode_record, encode_record
from storage.redis import Redis

logger = logging.getLogger(__name__)

# Bounds how long an invalidation lost while Redis was unreachable can serve a stale record.
RECORD_TTL_SECONDS = 3_600
CACHE_KEY_VERSION = 1  # bump when a record's shape changes so old entries are never decoded


class RecordCache(Generic[RecordT]):
    def __init__(self, redis: Redis, namespace: str, record_type: type[RecordT]) -> None:
        self._redis = redis
        self._prefix = f"cache:v{CACHE_KEY_VERSION}:{namespace}:"
        self._record_type = record_type

    def key(self, record_id: int) -> str:
        return f"{self._prefix}{record_id}"

    async def get_many(self, record_ids: Iterable[int]) -> dict[int, RecordT]:
        ids = list(record_ids)
        if not ids:
            return {}
        try:
            values = await self._redis.mget([self.key(record_id) for record_id in ids])
        except RedisError as error:
            logger.warning("record cache read failed, reading MongoDB: %s", error)
            return {}
        return {
            record_id: decode_record(self._record_type, value)
            for record_id, value in zip(ids, values, strict=True)
            if value is not None
        }

    async def put_many(self, records: Mapping[int, RecordT]) -> None:
        if not records:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for record_id, record in records.items():
                    pipe.set(self.key(record_id), encode_record(record), ex=RECORD_TTL_SECONDS)
                await pipe.execute()
        except RedisError as error:
            logger.warning("record cache fill failed: %s", error)

    async def delete(self, *record_ids: int) -> None:
        if not record_ids:
            return
        try:
            await self._redis.delete(*(self.key(record_id) for record_id in record_ids))
        except RedisError as error:
            logger.warning("record cache invalidation failed: %s", error)
