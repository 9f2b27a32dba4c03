"""The large accounts: authors above the fan-out threshold, whose posts are not fanned out but
merged into each reader's feed at read time.

Writers (fan-out jobs) and readers (the feed) decide from this one list, so every post is
either fanned out or merged at read time, even while the list is refreshed. It lives in
Redis for a short while, under the one key `large_accounts_key` builds.
"""

from __future__ import annotations

from storage.id_lists import decode_ids, encode_ids
from storage.redis import Redis
from storage.user import UserStore

LARGE_ACCOUNTS_LIMIT = 1_000  # accounts above the fan-out threshold, merged at read time
LARGE_ACCOUNTS_TTL_SECONDS = 60  # bounds how stale the list is if a refresh is missed


def large_accounts_key(threshold: int) -> str:
    """One list per threshold, so processes configured differently never share one."""
    return f"large-accounts:{threshold}"


class LargeAccountStore:
    def __init__(self, redis: Redis, users: UserStore) -> None:
        self._redis = redis
        self._users = users

    async def ids(self, *, above: int) -> list[int]:
        """The accounts with more than `above` followers (at most LARGE_ACCOUNTS_LIMIT)."""
        key = large_accounts_key(above)
        cached = await self._redis.get(key)
        if cached is not None:
            return decode_ids(cached)
        large = await self._users.ids_with_more_followers_than(above, limit=LARGE_ACCOUNTS_LIMIT)
        await self._redis.set(key, encode_ids(large), ex=LARGE_ACCOUNTS_TTL_SECONDS)
        return large

    async def forget(self, *, above: int) -> None:
        """An account crossed the threshold: the next `ids` reads MongoDB again."""
        await self._redis.delete(large_accounts_key(above))
