"""Per-request loaders of users: as stored, and as the viewer may see them."""

from __future__ import annotations

from collections.abc import Sequence

from loaders.base import StoreLoader
from loaders.visibility import FilteredLoader, Visibility
from storage.user import UserRecord


class UnfilteredUserByIdLoader(StoreLoader[int, UserRecord | None]):
    """Users as stored, whoever the viewer: see `Loaders.unfiltered`."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[UserRecord | None]:
        found = await self._stores.users.find_by_ids(keys)
        return [found.get(key) for key in keys]


class UserByIdLoader(FilteredLoader[UserRecord]):
    """Users the viewer may see: None for one blocked either way."""

    def __init__(self, unfiltered: UnfilteredUserByIdLoader, visibility: Visibility) -> None:
        super().__init__(unfiltered)
        self._visibility = visibility

    async def allowed(self, records: list[UserRecord]) -> list[bool]:
        return await self._visibility.users_visible(records)
