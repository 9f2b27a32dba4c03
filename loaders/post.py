"""Per-request loaders of posts, comments and the viewer's likes."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from storage.comment import CommentRecord
from storage.post import PostRecord
from storage.stores import Stores


class PostByIdLoader(DataLoader[int, PostRecord | None]):
    def __init__(self, stores: Stores) -> None:
        super().__init__()
        self._stores = stores

    async def batch_load_fn(self, keys: Sequence[int]) -> list[PostRecord | None]:
        found = await self._stores.posts.find_by_ids(keys)
        return [found.get(key) for key in keys]


class CommentByIdLoader(DataLoader[int, CommentRecord | None]):
    def __init__(self, stores: Stores) -> None:
        super().__init__()
        self._stores = stores

    async def batch_load_fn(self, keys: Sequence[int]) -> list[CommentRecord | None]:
        found = await self._stores.comments.find_by_ids(keys)
        return [found.get(key) for key in keys]


class LikedByPostIdLoader(DataLoader[int, bool]):
    """Whether the viewer likes each post (never, for an anonymous viewer)."""

    def __init__(self, stores: Stores, viewer_id: int | None) -> None:
        super().__init__()
        self._stores = stores
        self._viewer_id = viewer_id

    async def batch_load_fn(self, keys: Sequence[int]) -> list[bool]:
        if self._viewer_id is None:
            return [False] * len(keys)
        liked = await self._stores.likes.liked(self._viewer_id, keys)
        return [key in liked for key in keys]
