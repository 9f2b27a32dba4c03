"""Read-through caches in Redis, in front of MongoDB, with invalidation tokens.

A reader that misses, reads MongoDB and then writes the value back could otherwise cache
a value that a writer replaced in between: the writer's delete lands before the reader's
set, and the old value would stay for CACHE_TTL_SECONDS. So every cached key has a token
beside it, as Memcache's leases do at Facebook ("Scaling Memcache at Facebook", NSDI'13):

- a read is one MGET of the values and their tokens; a miss keeps the token it saw (none
  yet reads as the empty token);
- a writer changes MongoDB first, then invalidates: in one MULTI it gives each key a new
  random token and deletes the value;
- a fill is one script call that sets each value only if its key's token is still the one
  its miss saw, so a fill whose read may predate a write is refused.

What holds: once a writer's invalidation has reached Redis, no reader caches a value it
read from MongoDB before that write; a reader that read after it caches the new value. A
cached value is therefore never older than the last write whose invalidation reached Redis,
except during that write itself (a fill may land between its MongoDB update and its
invalidation, which then deletes it).

What remains: an invalidation lost because Redis was unreachable when the write ran (or a
token evicted under memory pressure) leaves the old value until it expires, at most
CACHE_TTL_SECONDS. Any Redis error counts as a miss, so reads keep working from MongoDB
while Redis is down; a read that could not read the tokens fills nothing.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

import orjson
from redis.exceptions import RedisError

from storage.records import decode_record, encode_record
from storage.redis import Redis

logger = logging.getLogger(__name__)

# Bounds how long an invalidation lost while Redis was unreachable can serve a stale value.
CACHE_TTL_SECONDS = 3_600
CACHE_KEY_VERSION = 1  # bump when a cached shape changes so old entries are never decoded
# A fill this long after its miss is dropped: MongoDB answers in milliseconds, and a late
# fill must still find the token of any write since its miss (see TOKEN_TTL_SECONDS).
FILL_DEADLINE_SECONDS = 10.0
# A token must outlive every miss that may have read around its write; six times the fill
# deadline leaves room for network retries and clock drift.
TOKEN_TTL_SECONDS = 60
TOKEN_BYTES = 8  # random per invalidation: two writes never leave the same token

# KEYS: value, token, value, token, ...; ARGV: ttl, then per key the token its miss saw
# ("" for none) and the encoded value. Sets the values whose token is unchanged.
FILL_SCRIPT = """
local stored = 0
for i = 1, #KEYS, 2 do
    local token = redis.call('GET', KEYS[i + 1]) or ''
    if token == ARGV[i + 1] then
        redis.call('SET', KEYS[i], ARGV[i + 2], 'EX', ARGV[1])
        stored = stored + 1
    end
end
return stored
"""

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")
RecordT = TypeVar("RecordT")
Pair = tuple[int, int]
Token = bytes | str  # as Redis returns it; b"" when a key has none


class Cache(Generic[KeyT, ValueT]):
    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        key_text: Callable[[KeyT], str],
        encode: Callable[[ValueT], bytes | str],
        decode: Callable[[bytes | str], ValueT],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._prefix = f"cache:v{CACHE_KEY_VERSION}:{namespace}:"
        self._key_text = key_text
        self._encode = encode
        self._decode = decode
        self._clock = clock
        self._fill = redis.register_script(FILL_SCRIPT)

    def _key(self, key: KeyT) -> str:
        return self._prefix + self._key_text(key)

    def _token_key(self, key: KeyT) -> str:
        return self._key(key) + ":token"

    async def read_through(
        self,
        keys: Iterable[KeyT],
        load: Callable[[list[KeyT]], Awaitable[Mapping[KeyT, ValueT]]],
    ) -> dict[KeyT, ValueT]:
        """The values of `keys`: cached ones from Redis, the rest from `load` (which caches
        them unless a write invalidated them meanwhile). `load` returns nothing for keys
        that have no value, and they stay uncached."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        missed_at = self._clock()
        found, tokens = await self._lookup(wanted)
        missing = [key for key in wanted if key not in found]
        if missing:
            loaded = await load(missing)
            if tokens is not None and self._clock() - missed_at <= FILL_DEADLINE_SECONDS:
                await self._put_unless_invalidated(loaded, tokens)
            found.update(loaded)
        return found

    async def _lookup(
        self, wanted: list[KeyT]
    ) -> tuple[dict[KeyT, ValueT], dict[KeyT, Token] | None]:
        """The cached values, and the token each miss saw (None: Redis did not answer)."""
        names = [self._key(key) for key in wanted] + [self._token_key(key) for key in wanted]
        try:
            answers = await self._redis.mget(names)
        except RedisError as error:
            logger.warning("cache read failed, reading MongoDB: %s", error)
            return {}, None
        values, tokens = answers[: len(wanted)], answers[len(wanted) :]
        found: dict[KeyT, ValueT] = {}
        seen: dict[KeyT, Token] = {}
        for key, value, token in zip(wanted, values, tokens, strict=True):
            if value is None:
                seen[key] = b"" if token is None else token
            else:
                found[key] = self._decode(value)
        return found, seen

    async def _put_unless_invalidated(
        self, values: Mapping[KeyT, ValueT], tokens: Mapping[KeyT, Token]
    ) -> None:
        names: list[str] = []
        arguments: list[Token | int] = [CACHE_TTL_SECONDS]
        for key, value in values.items():
            if key not in tokens:  # not a key this read missed: no token to check it by
                continue
            names += [self._key(key), self._token_key(key)]
            arguments += [tokens[key], self._encode(value)]
        if not names:
            return
        try:
            await self._fill(keys=names, args=arguments)
        except RedisError as error:
            logger.warning("cache fill failed: %s", error)

    async def delete(self, *keys: KeyT) -> None:
        """Invalidate `keys` after their MongoDB write: a new token each, and no value, so
        a fill by a reader that missed before this call is refused."""
        if not keys:
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    token = secrets.token_hex(TOKEN_BYTES)
                    pipe.set(self._token_key(key), token, ex=TOKEN_TTL_SECONDS)
                pipe.delete(*(self._key(key) for key in keys))
                await pipe.execute()
        except RedisError as error:
            logger.warning("cache invalidation failed: %s", error)


def record_cache(redis: Redis, namespace: str, record_type: type[RecordT]) -> Cache[int, RecordT]:
    """Records (frozen dataclasses) by id."""
    return Cache(
        redis,
        namespace,
        key_text=str,
        encode=encode_record,
        decode=lambda data: decode_record(record_type, data),
    )


def relation_cache(redis: Redis, namespace: str) -> Cache[Pair, str]:
    """A short value per ordered pair of ids (a follow state, a like, a block). Absent
    relations are cached too, as a value of their own: most pairs have none."""
    return Cache(
        redis,
        namespace,
        key_text=lambda pair: f"{pair[0]}:{pair[1]}",
        encode=lambda value: value,
        decode=lambda data: data.decode() if isinstance(data, bytes) else data,
    )


def id_set_cache(redis: Redis, namespace: str) -> Cache[int, frozenset[int]]:
    """A set of ids per id (the accounts a user blocked or was blocked by)."""
    return Cache(
        redis,
        namespace,
        key_text=str,
        encode=lambda ids: orjson.dumps(sorted(ids)),
        decode=lambda data: frozenset(orjson.loads(data)),
    )
