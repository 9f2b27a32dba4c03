"""The base of every loader: a DataLoader over the stores, for one viewer."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterable
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

    def load_many(self, keys: Iterable[KeyT]) -> asyncio.Future[list[ValueT]]:
        """As DataLoader's, but keys that are all memoised are answered by one finished
        future: aiodataloader gathers a task per key even then, which on a page of a
        hundred posts is most of what its loads cost."""
        futures = [self.load(key) for key in keys]
        if all(_succeeded(future) for future in futures):
            answered: asyncio.Future[list[ValueT]] = self.loop.create_future()
            answered.set_result([future.result() for future in futures])
            return answered
        return asyncio.gather(*futures)


def _succeeded(future: asyncio.Future[ValueT]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
