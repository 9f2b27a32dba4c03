"""Home feeds in Redis: one sorted set of post ids per user, newest first.

This module owns the feed key schema (as Mastodon's FeedManager does). Members are post ids
zero-padded to 20 digits, all with score 0, so Redis orders them lexicographically, which is
numerically and so by time: exact for 64-bit ids, which a double score is not.

A feed exists only for users who read it lately: every read renews its expiry, and fan-out
writes only into feeds that exist. Feeds of users gone longer than the inactivity window
expire by themselves and are rebuilt from MongoDB when their owner comes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from storage.redis import Redis

FEED_MAX_ITEMS = 800  # as Mastodon and Twitter: deeper scrolling reads MongoDB
ID_DIGITS = 20  # 2**64 has 20 decimal digits
FANOUT_BATCH = 1_000  # feeds written per Lua call: bounds how long one call blocks Redis
REBUILD_LOCK_SECONDS = 30  # one rebuild at a time per feed, even if a process dies mid-way

# For each feed key that exists: add the post, trim to the cap. One round trip per batch.
_PUSH_SCRIPT = """
local trim_stop = -(tonumber(ARGV[2]) + 1)
local pushed = 0
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', key, 0, ARGV[1])
    redis.call('ZREMRANGEBYRANK', key, 0, trim_stop)
    pushed = pushed + 1
  end
end
return pushed
"""


def feed_key(user_id: int) -> str:
    return f"feed:{user_id}"


def rebuild_lock_key(user_id: int) -> str:
    return f"feed:{user_id}:rebuilding"


def member(post_id: int) -> str:
    return str(post_id).zfill(ID_DIGITS)


class FeedStore:
    def __init__(self, redis: Redis, inactive_after: timedelta) -> None:
        self._redis = redis
        self._ttl_seconds = int(inactive_after.total_seconds())
        self._push = redis.register_script(_PUSH_SCRIPT)

    async def push(self, user_ids: Iterable[int], post_id: int) -> int:
        """Add the post to the existing feeds of `user_ids`; how many feeds took it."""
        keys = [feed_key(user_id) for user_id in user_ids]
        pushed = 0
        for start in range(0, len(keys), FANOUT_BATCH):
            batch = keys[start : start + FANOUT_BATCH]
            pushed += int(await self._push(keys=batch, args=[member(post_id), FEED_MAX_ITEMS]))
        return pushed

    async def unpush(self, user_ids: Iterable[int], post_id: int) -> None:
        """Remove the post from the feeds of `user_ids` (pipelined)."""
        ids = list(user_ids)
        for start in range(0, len(ids), FANOUT_BATCH):
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id in ids[start : start + FANOUT_BATCH]:
                    pipe.zrem(feed_key(user_id), member(post_id))
                await pipe.execute()

    async def merge(self, user_id: int, post_ids: Iterable[int]) -> None:
        """Add an author's recent posts to the user's feed, if the feed exists."""
        members = {member(post_id): 0 for post_id in post_ids}
        if members and await self._redis.exists(feed_key(user_id)):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(feed_key(user_id), members)
                pipe.zremrangebyrank(feed_key(user_id), 0, -(FEED_MAX_ITEMS + 1))
                await pipe.execute()

    async def unmerge(self, user_id: int, post_ids: Iterable[int]) -> None:
        members = [member(post_id) for post_id in post_ids]
        if members:
            await self._redis.zrem(feed_key(user_id), *members)

    async def rebuild(self, user_id: int, post_ids: Iterable[int]) -> None:
        """Replace the whole feed (atomically, so readers never see it half-built)."""
        members = {member(post_id): 0 for post_id in post_ids}
        key = feed_key(user_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if members:
                pipe.zadd(key, members)
                pipe.zremrangebyrank(key, 0, -(FEED_MAX_ITEMS + 1))
            else:
                # An empty feed still marks its owner active: a placeholder keeps the key.
                pipe.zadd(key, {member(0): 0})
            pipe.expire(key, self._ttl_seconds)
            await pipe.execute()

    async def page(self, user_id: int, *, before_id: int | None, limit: int) -> list[int] | None:
        """Post ids newest first, older than `before_id`; None when the feed does not exist
        (its owner was inactive, or Redis lost it): the caller rebuilds it."""
        key = feed_key(user_id)
        upper = "+" if before_id is None else f"({member(before_id)}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrevrangebylex(key, upper, f"({member(0)}", start=0, num=limit)
            pipe.expire(key, self._ttl_seconds)  # reading is what keeps a feed alive
            members, existed = await pipe.execute()
        if not existed:
            return None
        return [int(value) for value in members]

    async def try_lock_rebuild(self, user_id: int) -> bool:
        """True for the one caller that may rebuild the feed now."""
        return bool(
            await self._redis.set(rebuild_lock_key(user_id), 1, nx=True, ex=REBUILD_LOCK_SECONDS)
        )

    async def unlock_rebuild(self, user_id: int) -> None:
        await self._redis.delete(rebuild_lock_key(user_id))
