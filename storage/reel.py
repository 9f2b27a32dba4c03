"""Reel views: the `reel_views` collection, one document per (reel, viewer), so a reel's
`view_count` counts each viewer once however often they watch it (every watch is logged to
the interaction log as well, for training)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from storage.mongo import Collection


class ReelViewStore:
    def __init__(self, views: Collection) -> None:
        self._views = views

    async def create_indexes(self) -> None:
        await self._views.create_indexes(
            [IndexModel([("reel_id", ASCENDING), ("viewer_id", ASCENDING)], unique=True)]
        )

    async def record_first(self, view_id: int, reel_id: int, viewer_id: int, at: datetime) -> bool:
        """Record that `viewer_id` watched the reel; False when they had already (one write
        either way: the unique index decides)."""
        try:
            await self._views.insert_one(
                {"_id": view_id, "reel_id": reel_id, "viewer_id": viewer_id, "at": at}
            )
        except DuplicateKeyError:
            return False
        return True

    async def count(self, reel_id: int) -> int:
        return await self._views.count_documents({"reel_id": reel_id})
