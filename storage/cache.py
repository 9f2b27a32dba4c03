"""Read-through caches in Redis, in front of MongoDB.

Writers delete keys rather than update them: a delete is idempotent and cannot race a
concurrent reader into caching an older value for longer than one read. Any Redis error
counts as a miss, so reads keep working from MongoDB while Redis is down.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

from redis.exceptions import RedisError

from storage.records import decode_record, encode_record
from storage.redis import Redis

logger = logging.getLogger(__name__)

# Bounds how long an invalidation lost while Redis was unreachable can serve a stale value.
CACHE_TTL_SECONDS = 3_600
CACHE_KEY_VERSION = 1  # bump when a cached shape changes so old entries are never decoded

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")
RecordT = TypeVar("RecordT")
Pair = tuple[int, int]


class Cache(Generic[KeyT, ValueT]):
    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        key_text: Callable[[KeyT], str],
        encode: Callable[[ValueT], bytes | str],
        decode: Callable[[bytes | str], ValueT],
        enabled: bool = True,
    ) -> None:
        self._enabled = enabled  # off: every read goes to MongoDB (the benchmark's baseline)
        self._redis = redis
        self._prefix = f"cache:v{CACHE_KEY_VERSION}:{namespace}:"
        self._key_text = key_text
        self._encode = encode
        self._decode = decode

    def key(self, key: KeyT) -> str:
        return self._prefix + self._key_text(key)

    async def get_many(self, keys: Iterable[KeyT]) -> dict[KeyT, ValueT]:
        wanted = list(keys)
        if not wanted or not self._enabled:
            return {}
        try:
            values = await self._redis.mget([self.key(key) for key in wanted])
        except RedisError as error:
            logger.warning("cache read failed, reading MongoDB: %s", error)
            return {}
        return {
            key: self._decode(value)
            for key, value in zip(wanted, values, strict=True)
            if value is not None
        }

    async def read_through(
        self,
        keys: Iterable[KeyT],
        load: Callable[[list[KeyT]], Awaitable[Mapping[KeyT, ValueT]]],
    ) -> dict[KeyT, ValueT]:
        """The values of `keys`: cached ones from Redis, the rest from `load` (which caches
        them). `load` returns nothing for keys that have no value, and they stay uncached."""
        wanted = list(dict.fromkeys(keys))
        found = await self.get_many(wanted)
        missing = [key for key in wanted if key not in found]
        if missing:
            loaded = await load(missing)
            await self.put_many(loaded)
            found.update(loaded)
        return found

    async def put_many(self, values: Mapping[KeyT, ValueT]) -> None:
        if not values or not self._enabled:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    pipe.set(self.key(key), self._encode(value), ex=CACHE_TTL_SECONDS)
                await pipe.execute()
        except RedisError as error:
            logger.warning("cache fill failed: %s", error)

    async def delete(self, *keys: KeyT) -> None:
        if not keys or not self._enabled:
            return
        try:
            await self._redis.delete(*(self.key(key) for key in keys))
        except RedisError as error:
            logger.warning("cache invalidation failed: %s", error)


def record_cache(
    redis: Redis, namespace: str, record_type: type[RecordT], *, enabled: bool = True
) -> Cache[int, RecordT]:
    """Records (frozen dataclasses) by id."""
    return Cache(
        redis,
        namespace,
        key_text=str,
        encode=encode_record,
        decode=lambda data: decode_record(record_type, data),
        enabled=enabled,
    )


def relation_cache(redis: Redis, namespace: str, *, enabled: bool = True) -> Cache[Pair, str]:
    """A short value per ordered pair of ids (a follow state, a like, a block). Absent
    relations are cached too, as a value of their own: most pairs have none."""
    return Cache(
        redis,
        namespace,
        key_text=lambda pair: f"{pair[0]}:{pair[1]}",
        encode=lambda value: value,
        decode=lambda data: data.decode() if isinstance(data, bytes) else data,
        enabled=enabled,
    )
