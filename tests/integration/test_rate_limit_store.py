"""The rate-limit store against a real redis-server: fixed windows and the back-off."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from storage.rate_limit import BackOff, RateLimiter, Window, rate_limit_key

BACK_OFF = BackOff(free_failures=2, first_delay_seconds=10, max_delay_seconds=40, memory_seconds=60)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def subject() -> str:
    return f"test:{uuid.uuid4().hex}"


async def wait_left(redis: Redis, who: str) -> float:
    """Seconds left of the back-off's current wait (0: none)."""
    return max(await redis.pttl(rate_limit_key("test", who, "lock")), 0) / 1000


async def end_the_wait(redis: Redis, who: str) -> None:
    """As if the wait had passed: its key is what expires."""
    await redis.delete(rate_limit_key("test", who, "lock"))


async def test_the_wait_doubles_with_each_failure_past_the_free_ones_up_to_its_cap(
    redis: Redis,
) -> None:
    # Given a back-off with two free failures, a first wait of 10 s and a cap of 40 s
    limiter, who = RateLimiter(redis), subject()
    waits = []
    # When six attempts are made, each after the previous wait is over
    for _ in range(6):
        assert (await limiter.attempt("test", who, BACK_OFF)).allowed
        waits.append(await wait_left(redis, who))
        await end_the_wait(redis, who)
    # Then the first two cost nothing, then 10, 20, 40 and 40 s
    assert [round(wait / 10) * 10 for wait in waits] == [0, 0, 10, 20, 40, 40]


async def test_an_attempt_during_a_wait_is_refused_with_what_is_left_and_not_counted(
    redis: Redis,
) -> None:
    # Given a back-off whose free failures are used up and whose first wait has begun
    limiter, who = RateLimiter(redis), subject()
    for _ in range(3):
        await limiter.attempt("test", who, BACK_OFF)
    # When another attempt comes at once
    hit = await limiter.attempt("test", who, BACK_OFF)
    # Then it is refused for the rest of the wait
    assert not hit.allowed and hit.retry_after_seconds == 10
    # And it did not count: once the wait ends, the next wait is the second one (20 s)
    await end_the_wait(redis, who)
    assert (await limiter.attempt("test", who, BACK_OFF)).allowed
    assert round(await wait_left(redis, who)) == 20


async def test_forgiving_forgets_the_failures_and_the_wait(redis: Redis) -> None:
    limiter, who = RateLimiter(redis), subject()
    for _ in range(3):
        await limiter.attempt("test", who, BACK_OFF)

    await limiter.forgive("test", who)

    assert (await limiter.attempt("test", who, BACK_OFF)).allowed
    assert await wait_left(redis, who) == 0


async def test_a_refund_takes_back_one_attempt(redis: Redis) -> None:
    # Given two free failures, both used, and one refunded
    limiter, who = RateLimiter(redis), subject()
    await limiter.attempt("test", who, BACK_OFF)
    await limiter.attempt("test", who, BACK_OFF)
    await limiter.refund("test", who)
    # When one more attempt comes
    assert (await limiter.attempt("test", who, BACK_OFF)).allowed
    # Then it was still free
    assert await wait_left(redis, who) == 0


async def test_a_refund_of_nothing_leaves_no_key_behind(redis: Redis) -> None:
    limiter, who = RateLimiter(redis), subject()

    await limiter.refund("test", who)

    assert await redis.exists(rate_limit_key("test", who)) == 0


async def test_a_window_refuses_past_its_attempts_until_it_ends(redis: Redis) -> None:
    limiter, who = RateLimiter(redis), subject()
    window = Window(attempts=2, seconds=30)

    hits = [await limiter.hit("test", who, window) for _ in range(3)]

    assert [hit.allowed for hit in hits] == [True, True, False]
    assert 29 <= hits[2].retry_after_seconds <= 30


async def test_several_windows_refuse_for_the_longest_wait(redis: Redis) -> None:
    limiter, first, second = RateLimiter(redis), subject(), subject()
    counters = [("test", first, Window(1, 10)), ("test", second, Window(1, 100))]

    await limiter.hit_all(counters)
    hit = await limiter.hit_all(counters)

    assert not hit.allowed and 99 <= hit.retry_after_seconds <= 100
