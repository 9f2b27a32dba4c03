"""The `blocks` collection: who blocked whom. Blocks hide both ways, so reads ask for both."""

from __future__ import annotations

from collections.abc import Iterable

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from storage.mongo import Collection


class BlockStore:
    def __init__(self, collection: Collection) -> None:
        self._blocks = collection

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
        return True

    async def delete(self, blocker_id: int, blocked_id: int) -> bool:
        result = await self._blocks.delete_one({"blocker_id": blocker_id, "blocked_id": blocked_id})
        return bool(result.deleted_count)

    async def blocked_either_way(self, user_id: int, other_ids: Iterable[int]) -> set[int]:
        """Those of `other_ids` that `user_id` blocked or that blocked `user_id`."""
        others = list(other_ids)
        cursor = self._blocks.find(
            {
                "$or": [
                    {"blocker_id": user_id, "blocked_id": {"$in": others}},
                    {"blocked_id": user_id, "blocker_id": {"$in": others}},
                ]
            }
        )
        return {
            document["blocked_id"] if document["blocker_id"] == user_id else document["blocker_id"]
            async for document in cursor
        }
