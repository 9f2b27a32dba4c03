"""Throttling counters in Redis: fixed windows (how many actions per period) and exponential
back-off (how long after repeated failures the next attempt may come).

Every Redis key comes from `rate_limit_key`. A Redis failure lets the attempt through:
throttling protects, it must not lock everyone out while Redis is down.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from redis.exceptions import RedisError

from storage.redis import Redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "ratelimit"

# KEYS[1]: the failure count, KEYS[2]: the lock. ARGV: free failures, first delay (ms),
# longest delay (ms), how long failures are remembered (ms). A locked attempt is refused
# and not counted (returns the lock's milliseconds left); any other is counted before the
# caller checks it, so parallel guesses cannot all slip in before the first one fails.
_ATTEMPT_SCRIPT = """
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return left end
local failures = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local beyond = failures - tonumber(ARGV[1])
if beyond > 0 then
    local delay = math.min(tonumber(ARGV[2]) * 2 ^ (beyond - 1), tonumber(ARGV[3]))
    redis.call('SET', KEYS[2], '1', 'PX', math.floor(delay))
end
return 0
"""

# Takes back one counted attempt (it succeeded), never creating a key that has expired.
_REFUND_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
    redis.call('DECR', KEYS[1])
end
return 0
"""


def rate_limit_key(action: str, subject: str, part: str = "count") -> str:
    """The Redis key of one counter: `action` (what is limited: `mutation:signUp`, `login`)
    for one `subject` (`client:203.0.113.7`, `viewer:42`, `account:42`). The braces are a
    Redis Cluster hash tag, so the parts of one counter live on one node for its scripts."""
    return f"{KEY_PREFIX}:{{{action}|{subject}}}:{part}"


@dataclass(frozen=True, slots=True)
class Window:
    """At most `attempts` within `seconds`, counted from the window's first attempt."""

    attempts: int
    seconds: int


@dataclass(frozen=True, slots=True)
class BackOff:
    """`free_failures` in a row are free; each further one makes the next attempt wait
    `first_delay_seconds`, doubling, up to `max_delay_seconds`. Failures are forgotten
    `memory_seconds` after the last attempt."""

    free_failures: int
    first_delay_seconds: float
    max_delay_seconds: float
    memory_seconds: int


@dataclass(frozen=True, slots=True)
class Hit:
    """One counted attempt: whether it may go on, and if not, how long until it may."""

    allowed: bool
    retry_after_seconds: int = 0  # 0 when allowed

    @classmethod
    def refused_for(cls, milliseconds: int) -> Hit:
        # Rounded up: a client that waits exactly this long finds the way open.
        return cls(allowed=False, retry_after_seconds=max(math.ceil(milliseconds / 1000), 1))


ALLOWED = Hit(allowed=True)


class RateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._attempt = redis.register_script(_ATTEMPT_SCRIPT)
        self._refund = redis.register_script(_REFUND_SCRIPT)

    async def hit(self, action: str, subject: str, window: Window) -> Hit:
        """Count one attempt in a fixed window."""
        return await self.hit_all([(action, subject, window)])

    async def hit_all(self, counters: list[tuple[str, str, Window]]) -> Hit:
        """Count one attempt against each `(action, subject, window)` in one round trip;
        refused if any of them is over its limit, for as long as the longest wait."""
        if not counters:
            return ALLOWED
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for action, subject, window in counters:
                    key = rate_limit_key(action, subject)
                    pipe.incr(key)
                    pipe.expire(key, window.seconds, nx=True)
                    pipe.pttl(key)
                replies = await pipe.execute()
        except RedisError as error:
            logger.warning("rate limiter unavailable, allowing: %s", error)
            return ALLOWED
        waits = [
            int(replies[3 * index + 2])
            for index, (_, _, window) in enumerate(counters)
            if int(replies[3 * index]) > window.attempts
        ]
        return Hit.refused_for(max(waits)) if waits else ALLOWED

    async def attempt(self, action: str, subject: str, back_off: BackOff) -> Hit:
        """Count one attempt under `back_off`: refused while an earlier failure's wait lasts.
        The caller reports the outcome with `succeeded` (or `forgive`)."""
        try:
            milliseconds_left = await self._attempt(
                keys=[rate_limit_key(action, subject), rate_limit_key(action, subject, "lock")],
                args=[
                    back_off.free_failures,
                    int(back_off.first_delay_seconds * 1000),
                    int(back_off.max_delay_seconds * 1000),
                    back_off.memory_seconds * 1000,
                ],
            )
        except RedisError as error:
            logger.warning("rate limiter unavailable, allowing: %s", error)
            return ALLOWED
        return Hit.refused_for(int(milliseconds_left)) if int(milliseconds_left) > 0 else ALLOWED

    async def forgive(self, action: str, subject: str) -> None:
        """Forget every failure and wait (the account's owner got in)."""
        try:
            await self._redis.delete(
                rate_limit_key(action, subject), rate_limit_key(action, subject, "lock")
            )
        except RedisError as error:
            logger.warning("rate limiter unavailable: %s", error)

    async def refund(self, action: str, subject: str) -> None:
        """Take back one counted attempt that was not a failure, leaving any wait as it is."""
        try:
            await self._refund(keys=[rate_limit_key(action, subject)], args=[])
        except RedisError as error:
            logger.warning("rate limiter unavailable: %s", error)
