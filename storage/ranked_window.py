"""Ranked windows in Redis: the order one ranker call gave a surface, kept for paging.

A ranked list is not a keyset (its order is the model's, not the posts'), so its cursors
point into a snapshot of the ranking: new posts wait for a reload instead of shifting the
pages. Each (user, surface) numbers its snapshots with a counter; a window expires on its
own, and a cursor into an expired window is the caller's to refuse.

Beside each window, what it was scored with (`WindowScoring`: every row's features, the
model's version): the impressions of its later pages are logged with the features their
posts were ranked by, read in the same round trip as the window. It costs Redis 68 bytes a
candidate (17 float32), ~14 KB for a 200-candidate window, for the window's 15 minutes.

This module owns the ranked-window key schema: every key comes from `ranked_window_key`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage.redis import Redis

# A ranked window stays pageable this long; cursors into it stay stable while posts arrive.
WINDOW_TTL_SECONDS = 15 * 60
EMPTY_WINDOW_PLACEHOLDER = 0  # no post has id 0: it keeps an empty window's key alive


class Surface(StrEnum):
    """A list of posts the ranker orders for its viewer."""

    FEED = "feed"
    EXPLORE = "explore"
    REELS = "reels"


def ranked_window_key(
    user_id: int, surface: Surface, snapshot: int | None, *, scoring: bool = False
) -> str:
    """The key of window `snapshot` of the user's surface (scoring=True: of what it was
    scored with); with None, of the counter that numbers those windows."""
    part = "next" if snapshot is None else str(snapshot)
    return f"rank:{user_id}:{surface.value}:{part}{':scoring' if scoring else ''}"


@dataclass(frozen=True, slots=True)
class WindowScoring:
    """What a ranked window was scored with: row i of `features` is what position i's post
    was scored with (ranking.features.feature_bytes, concatenated)."""

    window_id: int  # unique across windows (a time-ordered id): the request a row came from
    model_version: str
    feature_schema: int
    feature_count: int
    features: bytes

    def row(self, position: int) -> bytes:
        size = self.feature_count * FLOAT32_BYTES
        return self.features[position * size : (position + 1) * size]


FLOAT32_BYTES = 4


@dataclass(frozen=True, slots=True)
class ScoredWindow:
    post_ids: list[int]  # best first
    scoring: WindowScoring | None  # None for a window saved without (or before) it


class RankedWindowStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def save(
        self,
        user_id: int,
        surface: Surface,
        post_ids: list[int],
        scoring: WindowScoring | None = None,
    ) -> int:
        """Keep a ranked window (and what it was scored with) for paging; returns its
        snapshot number."""
        snapshot = int(await self._redis.incr(ranked_window_key(user_id, surface, None)))
        key = ranked_window_key(user_id, surface, snapshot)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *(post_ids or [EMPTY_WINDOW_PLACEHOLDER]))
            pipe.expire(key, WINDOW_TTL_SECONDS)
            if scoring is not None:
                scoring_key = ranked_window_key(user_id, surface, snapshot, scoring=True)
                pipe.hset(
                    scoring_key,
                    mapping={
                        "window": scoring.window_id,
                        "model": scoring.model_version,
                        "schema": scoring.feature_schema,
                        "count": scoring.feature_count,
                        "features": scoring.features,
                    },
                )
                pipe.expire(scoring_key, WINDOW_TTL_SECONDS)
            await pipe.execute()
        return snapshot

    async def window(self, user_id: int, surface: Surface, snapshot: int) -> list[int] | None:
        """The ranked post ids of the window, best first; None once it expired."""
        values = await self._redis.lrange(ranked_window_key(user_id, surface, snapshot), 0, -1)
        return _post_ids(values)

    async def scored_window(
        self, user_id: int, surface: Surface, snapshot: int
    ) -> ScoredWindow | None:
        """The window and what it was scored with, in one round trip; None once it expired."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.lrange(ranked_window_key(user_id, surface, snapshot), 0, -1)
            pipe.hmget(
                ranked_window_key(user_id, surface, snapshot, scoring=True),
                ["window", "model", "schema", "count", "features"],
            )
            values, (window_id, model, schema, count, features) = await pipe.execute()
        post_ids = _post_ids(values)
        if post_ids is None:
            return None
        scoring = None
        if window_id is not None and features is not None:
            scoring = WindowScoring(
                window_id=int(window_id),
                model_version=bytes(model).decode(),
                feature_schema=int(schema),
                feature_count=int(count),
                features=bytes(features),
            )
        return ScoredWindow(post_ids, scoring)


def _post_ids(values: Sequence[bytes | str]) -> list[int] | None:
    if not values:
        return None
    return [post_id for post_id in map(int, values) if post_id != EMPTY_WINDOW_PLACEHOLDER]
