"""Per-request loaders of posts, comments and the viewer's likes."""

from __future__ import annotations

from collections.abc import Sequence

from loaders.base import StoreLoader
from storage.comment import CommentRecord
from storage.post import PostRecord


class PostByIdLoader(StoreLoader[int, PostRecord | None]):
    async def batch_load_fn(self, keys: Sequence[int]) -> list[PostRecord | None]:
        found = await self._stores.posts.find_by_ids(keys)
        return [found.get(key) for key in keys]


class CommentByIdLoader(StoreLoader[int, CommentRecord | None]):
    async def batch_load_fn(self, keys: Sequence[int]) -> list[CommentRecord | None]:
        found = await self._stores.comments.find_by_ids(keys)
        return [found.get(key) for key in keys]


class LikedByPostIdLoader(StoreLoader[int, bool]):
    """Whether the viewer likes each post (never, for an anonymous viewer)."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[bool]:
        if self._viewer_id is None:
            return [False] * len(keys)
        liked = await self._stores.likes.liked(self._viewer_id, keys)
        return [key in liked for key in keys]
