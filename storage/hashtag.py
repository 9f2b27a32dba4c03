"""The `hashtags` collection: how many posts use each tag (the posts carry their tags)."""

from __future__ import annotations

from collections.abc import Iterable

from storage.mongo import Collection


class HashtagStore:
    def __init__(self, collection: Collection) -> None:
        self._hashtags = collection

    async def create_indexes(self) -> None:
        """The tag is the `_id`: nothing else to index."""

    async def increment(self, names: Iterable[str], delta: int) -> None:
        for name in names:
            await self._hashtags.update_one(
                {"_id": name}, {"$inc": {"post_count": delta}}, upsert=True
            )

    async def post_count(self, name: str) -> int | None:
        document = await self._hashtags.find_one({"_id": name})
        return None if document is None else max(0, int(document["post_count"]))
