"""Ranked windows in Redis: the order one ranker call gave a surface, kept for paging.

A ranked list is not a keyset (its order is the model's, not the posts'), so its cursors
point into a snapshot of the ranking: new posts wait for a reload instead of shifting the
pages. Each (user, surface) numbers its snapshots with a counter; a window expires on its
own, and a cursor into an expired window is the caller's to refuse.

This module owns the ranked-window key schema: every key comes from `ranked_window_key`.
"""

from __future__ import annotations

from enum import StrEnum

from storage.redis import Redis

# A ranked window stays pageable this long; cursors into it stay stable while posts arrive.
WINDOW_TTL_SECONDS = 15 * 60
EMPTY_WINDOW_PLACEHOLDER = 0  # no post has id 0: it keeps an empty window's key alive


class Surface(StrEnum):
    """A list of posts the ranker orders for its viewer."""

    FEED = "feed"
    EXPLORE = "explore"
    REELS = "reels"  # ranking.weights.REELS: the reels surface's weights


def ranked_window_key(user_id: int, surface: Surface, snapshot: int | None) -> str:
    """The key of window `snapshot` of the user's surface; with None, of the counter that
    numbers those windows."""
    part = "next" if snapshot is None else str(snapshot)
    return f"rank:{user_id}:{surface.value}:{part}"


class RankedWindowStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def save(self, user_id: int, surface: Surface, post_ids: list[int]) -> int:
        """Keep a ranked window for paging; returns its snapshot number."""
        snapshot = int(await self._redis.incr(ranked_window_key(user_id, surface, None)))
        key = ranked_window_key(user_id, surface, snapshot)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *(post_ids or [EMPTY_WINDOW_PLACEHOLDER]))
            pipe.expire(key, WINDOW_TTL_SECONDS)
            await pipe.execute()
        return snapshot

    async def window(self, user_id: int, surface: Surface, snapshot: int) -> list[int] | None:
        """The ranked post ids of the window, best first; None once it expired."""
        values = await self._redis.lrange(ranked_window_key(user_id, surface, snapshot), 0, -1)
        if not values:
            return None
        return [post_id for post_id in map(int, values) if post_id != EMPTY_WINDOW_PLACEHOLDER]
