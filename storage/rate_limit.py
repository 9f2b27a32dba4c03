"""Fixed-window counters in Redis, for throttling guessable actions such as logging in."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from storage.redis import Redis

logger = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> bool:
        """Count one attempt; False once `limit` attempts were made within the window.

        A Redis failure lets the attempt through: throttling protects, it must not lock
        everyone out while Redis is down.
        """
        redis_key = f"ratelimit:{key}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, window_seconds, nx=True)
                count, _ = await pipe.execute()
        except RedisError as error:
            logger.warning("rate limiter unavailable, allowing: %s", error)
            return True
        return int(count) <= limit
