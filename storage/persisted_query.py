"""Automatic persisted queries (Apollo's APQ): documents in Redis, keyed by their SHA-256.

What is here can be rebuilt: a client whose hash is gone is told `PersistedQueryNotFound`
and sends the document again, so a Redis outage or an evicted key costs one round trip.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.exceptions import RedisError

from storage.redis import Redis

logger = logging.getLogger(__name__)

# A week, as a release cycle: clients keep sending the same few hundred documents, so an
# entry is refreshed long before it expires, and one that nobody sends goes away.
PERSISTED_QUERY_TTL = timedelta(days=7)
# Forty times the longest contract operation with its fragments (under 1 KB): room for
# every real screen's query, too small for Redis to become a free key-value store.
MAX_PERSISTED_QUERY_BYTES = 32 * 1024


def persisted_query_key(sha256_hash: str) -> str:
    return f"apq:{sha256_hash}"


class PersistedQueryStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def find(self, sha256_hash: str) -> str | None:
        """The document registered under this hash; None when unknown or Redis fails (the
        client then sends it again, which still works)."""
        try:
            document: bytes | str | None = await self._redis.getex(
                persisted_query_key(sha256_hash), ex=PERSISTED_QUERY_TTL
            )
        except RedisError as error:
            logger.warning("persisted queries unavailable, asking for the document: %s", error)
            return None
        if isinstance(document, bytes):
            return document.decode()
        return document

    async def save(self, sha256_hash: str, document: str) -> bool:
        """Remember a document whose hash the caller has checked; False when it was not
        stored (too large, or Redis failed): the request still runs, sent in full."""
        encoded = document.encode()
        if len(encoded) > MAX_PERSISTED_QUERY_BYTES:
            return False
        try:
            await self._redis.set(persisted_query_key(sha256_hash), encoded, ex=PERSISTED_QUERY_TTL)
        except RedisError as error:
            logger.warning("persisted queries unavailable, not stored: %s", error)
            return False
        return True
