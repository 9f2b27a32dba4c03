"""Fixed-window counters in Redis, for throttling guessable actions such as logging in."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from redis.exceptions import RedisError

from storage.redis import Redis

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Hit:
    """One counted attempt: whether it may go on, and if not, how long until it may."""

    allowed: bool
    retry_after_seconds: int = 0  # what is left of the window; 0 when allowed


class RateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> Hit:
        """Count one attempt; refused once `limit` attempts were made within the window,
        until the window (which starts at its first attempt) ends.

        A Redis failure lets the attempt through: throttling protects, it must not lock
        everyone out while Redis is down.
        """
        redis_key = f"ratelimit:{key}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, window_seconds, nx=True)
                pipe.pttl(redis_key)
                count, _, milliseconds_left = await pipe.execute()
        except RedisError as error:
            logger.warning("rate limiter unavailable, allowing: %s", error)
            return Hit(allowed=True)
        if int(count) <= limit:
            return Hit(allowed=True)
        # Rounded up: a client that waits exactly this long finds the window over.
        seconds_left = max(math.ceil(int(milliseconds_left) / 1000), 1)
        return Hit(allowed=False, retry_after_seconds=seconds_left)
