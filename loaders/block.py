"""Per-request loader of the blocks between the viewer and other users."""

from __future__ import annotations

from collections.abc import Sequence

from loaders.base import StoreLoader


class BlockedByUserIdLoader(StoreLoader[int, bool]):
    """Whether the viewer and each user have blocked one another, in either direction
    (never, for an anonymous viewer)."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[bool]:
        if self._viewer_id is None:
            return [False] * len(keys)
        blocked = await self._stores.blocks.blocked_either_way(self._viewer_id, keys)
        return [key in blocked for key in keys]
