"""Each viewer's budget of query cost over time, in Redis: the generic cell rate algorithm.

GCRA is a leaky bucket kept as one number per key, the time at which the bucket will be
empty again (the "theoretical arrival time"): spending `cost` points moves it `cost`
emission intervals on; a spend is refused when that would put it more than a full bucket
ahead of now. One atomic script per request, on Redis's own clock, so every process
shares one budget per viewer.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from redis.exceptions import RedisError

from storage.redis import Redis

logger = logging.getLogger(__name__)

MICROSECONDS_PER_MINUTE = 60_000_000

# KEYS[1]: the budget; ARGV: cost, capacity (points), microseconds per point.
# Returns {allowed, microseconds until the spend would fit, points left now}.
_SPEND = """
local cost = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local tolerance = capacity * interval
local new_tat = tat + cost * interval
local allowed_at = new_tat - tolerance
if allowed_at > now then
  return {0, allowed_at - now, math.floor((tolerance - (tat - now)) / interval)}
end
local ttl_ms = math.ceil((new_tat - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', ttl_ms)
return {1, 0, math.floor((tolerance - (new_tat - now)) / interval)}
"""


def budget_key(subject: str) -> str:
    """`subject` is `viewer:<id>` or `client:<address>`."""
    return f"costbudget:{subject}"


@dataclass(frozen=True, slots=True)
class Spend:
    allowed: bool
    remaining: int | None  # points left after this spend; None when Redis did not answer
    retry_after_seconds: int = 0  # when refused: how long until this spend would fit


class CostBudget:
    def __init__(self, redis: Redis, points_per_minute: int) -> None:
        """A bucket of `points_per_minute` points, refilled at that rate: a minute's worth
        may be spent at once."""
        self._redis = redis
        self.capacity = points_per_minute
        self._microseconds_per_point = MICROSECONDS_PER_MINUTE / points_per_minute
        self._spend = redis.register_script(_SPEND)

    async def spend(self, subject: str, cost: int) -> Spend:
        """Take `cost` points from `subject`'s budget, or refuse and take nothing.

        A Redis failure lets the request through: the budget protects, it must not refuse
        everyone while Redis is down (the per-request limit still holds).
        """
        try:
            allowed, wait_us, remaining = await self._spend(
                keys=[budget_key(subject)],
                args=[cost, self.capacity, self._microseconds_per_point],
            )
        except RedisError as error:
            logger.warning("cost budget unavailable, allowing: %s", error)
            return Spend(allowed=True, remaining=None)
        if int(allowed):
            return Spend(allowed=True, remaining=max(int(remaining), 0))
        # Rounded up: a client that waits exactly this long finds room for the request.
        seconds = max(math.ceil(int(wait_us) / 1_000_000), 1)
        return Spend(allowed=False, remaining=max(int(remaining), 0), retry_after_seconds=seconds)
