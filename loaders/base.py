"""The base of every loader: a DataLoader over the stores, for one viewer."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from aiodataloader import DataLoader

from storage.stores import Stores

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


class Loader(DataLoader[KeyT, ValueT], Generic[KeyT, ValueT]):
    """A DataLoader whose `load_many` costs no callback per key."""

    def load_many(self, keys: Iterable[KeyT]) -> asyncio.Future[list[ValueT]]:
        """As DataLoader's, without its `asyncio.gather`, which puts a callback on every
        key's future: on a page of a hundred posts that was most of what loads cost. Keys
        that are all memoised are answered by one finished future; otherwise one task
        awaits the futures in order, which suspends only until their batch is loaded."""
        futures = [self.load(key) for key in keys]
        if all(_succeeded(future) for future in futures):
            answered: asyncio.Future[list[ValueT]] = self.loop.create_future()
            answered.set_result([future.result() for future in futures])
            return answered
        return self.loop.create_task(_in_order(futures))


class StoreLoader(Loader[KeyT, ValueT]):
    def __init__(self, stores: Stores, viewer_id: int | None) -> None:
        super().__init__()
        self._stores = stores
        self._viewer_id = viewer_id  # None for an anonymous viewer


async def _in_order(futures: list[asyncio.Future[ValueT]]) -> list[ValueT]:
    try:
        return [await future for future in futures]
    finally:
        # A failed batch fails every key: raise the first, and mark the others' errors as
        # seen (as gather does), or asyncio logs each one as never retrieved.
        for future in futures:
            if future.done() and not future.cancelled():
                future.exception()


def _succeeded(future: asyncio.Future[ValueT]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
