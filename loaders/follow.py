"""Per-request loaders of the follows between the viewer and other users.

Both answer for an anonymous viewer (None) without touching storage.
"""

from __future__ import annotations

from collections.abc import Sequence

from loaders.base import StoreLoader
from storage.follow import FollowState


class FollowStateByUserIdLoader(StoreLoader[int, FollowState]):
    """How the viewer follows each user."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[FollowState]:
        viewer_id = self._viewer_id
        if viewer_id is None:
            return [FollowState.NONE] * len(keys)
        states = await self._stores.follows.states([(viewer_id, key) for key in keys])
        return [states[(viewer_id, key)] for key in keys]


class FollowsViewerByUserIdLoader(StoreLoader[int, bool]):
    """Whether each user follows the viewer (an approved follow, not a request)."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[bool]:
        viewer_id = self._viewer_id
        if viewer_id is None:
            return [False] * len(keys)
        states = await self._stores.follows.states([(key, viewer_id) for key in keys])
        return [states[(key, viewer_id)] is FollowState.FOLLOWING for key in keys]
