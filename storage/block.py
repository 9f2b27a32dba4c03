"""The `blocks` collection: who blocked whom. Blocks hide both ways, so reads ask for both."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from storage.cache import Cache, Pair
from storage.mongo import Collection

# The accounts one user blocked or was blocked by that one read returns: beyond it, a
# user's blocks are read no further (real lists are a few hundred at most; one this long
# may be cut, and whoever needs every block of such an account asks pair by pair).
MAX_BLOCKS_READ = 10_000
BLOCK_EXISTS = "1"
BLOCK_NONE = "0"


class BlockStore:
    def __init__(
        self,
        collection: Collection,
        cache: Cache[Pair, str],
        ids_cache: Cache[int, frozenset[int]],
    ) -> None:
        self._blocks = collection
        self._cache = cache  # (lower id, higher id) -> "1" when either blocked the other
        # user id -> every account that user blocked or was blocked by
        self._ids_cache = ids_cache

    @staticmethod
    def _pair(a: int, b: int) -> Pair:
        return (a, b) if a < b else (b, a)

    async def create_indexes(self) -> None:
        await self._blocks.create_indexes(
            [
                IndexModel([("blocker_id", ASCENDING), ("blocked_id", ASCENDING)], unique=True),
                IndexModel([("blocked_id", ASCENDING)]),
            ]
        )

    async def insert(self, blocker_id: int, blocked_id: int) -> bool:
        """Record the block; False when it already existed."""
        try:
            await self._blocks.insert_one({"blocker_id": blocker_id, "blocked_id": blocked_id})
        except DuplicateKeyError:
            return False
        finally:
            await self._invalidate(blocker_id, blocked_id)
        return True

    async def delete(self, blocker_id: int, blocked_id: int) -> bool:
        result = await self._blocks.delete_one({"blocker_id": blocker_id, "blocked_id": blocked_id})
        await self._invalidate(blocker_id, blocked_id)
        return bool(result.deleted_count)

    async def _invalidate(self, blocker_id: int, blocked_id: int) -> None:
        await self._cache.delete(self._pair(blocker_id, blocked_id))
        await self._ids_cache.delete(blocker_id, blocked_id)

    async def blocked_either_way(self, user_id: int, other_ids: Iterable[int]) -> set[int]:
        """Those of `other_ids` that `user_id` blocked or that blocked `user_id`."""
        others = {self._pair(user_id, other): other for other in other_ids}

        async def load(pairs: list[Pair]) -> dict[Pair, str]:
            missing = [others[pair] for pair in pairs]
            cursor = self._blocks.find(
                {
                    "$or": [
                        {"blocker_id": user_id, "blocked_id": {"$in": missing}},
                        {"blocked_id": user_id, "blocker_id": {"$in": missing}},
                    ]
                }
            )
            loaded = dict.fromkeys(pairs, BLOCK_NONE)
            async for document in cursor:
                loaded[self._pair(document["blocker_id"], document["blocked_id"])] = BLOCK_EXISTS
            return loaded

        values = await self._cache.read_through(others, load)
        return {others[pair] for pair, value in values.items() if value == BLOCK_EXISTS}

    async def ids_either_way(self, user_id: int) -> frozenset[int]:
        """Every account `user_id` blocked or was blocked by, up to MAX_BLOCKS_READ of them
        (a list that long may be cut: ask pair by pair then): one cached value, so asking
        about one user and a thousand others (an event's receivers) is one read, not a
        thousand pairs."""
        return (await self.ids_either_way_of([user_id]))[user_id]

    async def ids_either_way_of(self, user_ids: Iterable[int]) -> dict[int, frozenset[int]]:
        """`ids_either_way` of each of `user_ids`, in one read of the cache."""

        async def load(missing: list[int]) -> dict[int, frozenset[int]]:
            lists = await asyncio.gather(*(self._read_ids_either_way(user) for user in missing))
            return dict(zip(missing, lists, strict=True))

        return await self._ids_cache.read_through(set(user_ids), load)

    async def _read_ids_either_way(self, user_id: int) -> frozenset[int]:
        cursor = self._blocks.find(
            {"$or": [{"blocker_id": user_id}, {"blocked_id": user_id}]},
            {"blocker_id": 1, "blocked_id": 1},
        )
        return frozenset(
            {
                document["blocked_id"]
                if document["blocker_id"] == user_id
                else document["blocker_id"]
                async for document in cursor.limit(MAX_BLOCKS_READ)
            }
        )

    async def blocked_pairs(self, pairs: Iterable[Pair]) -> set[Pair]:
        """Those of `pairs` (any users, in either order) where one blocked the other, as
        (lower id, higher id): one read for the pairs of many viewers at once, as an event's
        receivers need (loaders/shared.py)."""
        wanted = {self._pair(a, b) for a, b in pairs if a != b}

        async def load(missing: list[Pair]) -> dict[Pair, str]:
            either_way = [
                {"blocker_id": x, "blocked_id": y} for a, b in missing for x, y in ((a, b), (b, a))
            ]
            cursor = self._blocks.find({"$or": either_way}, {"blocker_id": 1, "blocked_id": 1})
            loaded = dict.fromkeys(missing, BLOCK_NONE)
            async for document in cursor:
                loaded[self._pair(document["blocker_id"], document["blocked_id"])] = BLOCK_EXISTS
            return loaded

        values = await self._cache.read_through(wanted, load)
        return {pair for pair, value in values.items() if value == BLOCK_EXISTS}
