"""The read-path benchmark's naive baseline (way b), built here so that no production class
carries a switch for it: loaders that neither batch nor memoise, and stores without a cache.
The schema, the resolvers and the stores' MongoDB queries are the ones Pictograph runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from aiodataloader import DataLoader

from loaders import Loaders
from storage.block import BlockStore
from storage.cache import Cache
from storage.comment import CommentStore
from storage.follow import FollowStore
from storage.like import LikeStore
from storage.mongo import Database
from storage.post import PostStore
from storage.stores import Stores
from storage.user import UserStore

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


class Uncached(Cache[KeyT, ValueT]):
    """Every read goes to MongoDB; nothing is kept, so nothing is invalidated."""

    def __init__(self) -> None:
        # No Redis and no key scheme: the two methods the stores call are replaced below.
        pass

    async def read_through(
        self,
        keys: Iterable[KeyT],
        load: Callable[[list[KeyT]], Awaitable[Mapping[KeyT, ValueT]]],
    ) -> dict[KeyT, ValueT]:
        return dict(await load(list(dict.fromkeys(keys))))

    async def delete(self, *keys: KeyT) -> None:
        pass


def uncached_stores(database: Database, stores: Stores) -> Stores:
    """`stores` with every read-through cache replaced by none, over `database`."""
    return dataclasses.replace(
        stores,
        users=UserStore(database["users"], Uncached()),
        follows=FollowStore(database["follows"], Uncached(), Uncached()),
        blocks=BlockStore(database["blocks"], Uncached(), Uncached()),
        posts=PostStore(database["posts"], Uncached()),
        likes=LikeStore(database["likes"], Uncached()),
        comments=CommentStore(database["comments"], Uncached()),
    )


def naive_loaders(stores: Stores, viewer_id: int | None) -> Loaders:
    """The request's loaders, each loading key by key without memoising."""
    loaders = Loaders.create(stores, viewer_id)
    for loader in _each_loader(loaders):
        # aiodataloader's own options, read on every load: dispatch each key at once, and
        # keep no future for a key asked again.
        loader.batch = False
        loader.cache = False
    return loaders


def _each_loader(group: object) -> Iterator[DataLoader[Any, Any]]:
    """The DataLoaders of a dataclass of them, and of the dataclasses it holds
    (`Loaders.unfiltered`)."""
    for field in dataclasses.fields(group):  # type: ignore[arg-type]
        value = getattr(group, field.name)
        if isinstance(value, DataLoader):
            yield value
        elif dataclasses.is_dataclass(value):
            yield from _each_loader(value)
