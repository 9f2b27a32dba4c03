"""Per-request loader of the viewer's likes."""

from __future__ import annotations

from collections.abc import Sequence

from loaders.base import StoreLoader


class LikedByPostIdLoader(StoreLoader[int, bool]):
    """Whether the viewer likes each post (never, for an anonymous viewer)."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[bool]:
        if self._viewer_id is None:
            return [False] * len(keys)
        liked = await self._stores.likes.liked(self._viewer_id, keys)
        return [key in liked for key in keys]
