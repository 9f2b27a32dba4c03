"""The base of every loader: a DataLoader over the stores, for one viewer."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

from aiodataloader import DataLoader

from storage.stores import Stores

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


class StoreLoader(DataLoader[KeyT, ValueT], Generic[KeyT, ValueT]):
    def __init__(self, stores: Stores, viewer_id: int | None, *, batching: bool = True) -> None:
        """`batching=False` loads key by key without memoising: the naive resolvers that the
        read-path benchmark compares against."""
        super().__init__(batch=batching, cache=batching)
        self._stores = stores
        self._viewer_id = viewer_id  # None for an anonymous viewer
