"""Per-request loaders of users and of the viewer's relations to them.

The relation loaders answer for an anonymous viewer (None) without touching storage.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from storage.follow import FollowState
from storage.stores import Stores
from storage.user import UserRecord


class UserByIdLoader(DataLoader[int, UserRecord | None]):
    def __init__(self, stores: Stores) -> None:
        super().__init__()
        self._stores = stores

    async def batch_load_fn(self, keys: Sequence[int]) -> list[UserRecord | None]:
        found = await self._stores.users.find_by_ids(keys)
        return [found.get(key) for key in keys]


class FollowStateByUserIdLoader(DataLoader[int, FollowState]):
    """How the viewer follows each user."""

    def __init__(self, stores: Stores, viewer_id: int | None) -> None:
        super().__init__()
        self._stores = stores
        self._viewer_id = viewer_id

    async def batch_load_fn(self, keys: Sequence[int]) -> list[FollowState]:
        if self._viewer_id is None:
            return [FollowState.NONE] * len(keys)
        viewer_id = self._viewer_id
        states = await self._stores.follows.states([(viewer_id, key) for key in keys])
        return [states[(viewer_id, key)] for key in keys]


class FollowsViewerByUserIdLoader(DataLoader[int, bool]):
    """Whether each user follows the viewer (an approved follow, not a request)."""

    def __init__(self, stores: Stores, viewer_id: int | None) -> None:
        super().__init__()
        self._stores = stores
        self._viewer_id = viewer_id

    async def batch_load_fn(self, keys: Sequence[int]) -> list[bool]:
        if self._viewer_id is None:
            return [False] * len(keys)
        viewer_id = self._viewer_id
        states = await self._stores.follows.states([(key, viewer_id) for key in keys])
        return [states[(key, viewer_id)] is FollowState.FOLLOWING for key in keys]


class BlockedByUserIdLoader(DataLoader[int, bool]):
    """Whether the viewer and each user have blocked one another, in either direction."""

    def __init__(self, stores: Stores, viewer_id: int | None) -> None:
        super().__init__()
        self._stores = stores
        self._viewer_id = viewer_id

    async def batch_load_fn(self, keys: Sequence[int]) -> list[bool]:
        if self._viewer_id is None:
            return [False] * len(keys)
        blocked = await self._stores.blocks.blocked_either_way(self._viewer_id, keys)
        return [key in blocked for key in keys]
