"""The `likes` collection: one document per (post, user), unique, so liking twice is one like."""

from __future__ import annotations

from collections.abc import Iterable

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from storage.cache import Cache, Pair
from storage.mongo import Collection

LIKED = "1"
NOT_LIKED = "0"


class LikeStore:
    def __init__(self, collection: Collection, cache: Cache[Pair, str]) -> None:
        self._likes = collection
        self._cache = cache  # (user id, post id) -> LIKED or NOT_LIKED

    async def create_indexes(self) -> None:
        await self._likes.create_indexes(
            [
                IndexModel([("post_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
                IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)]),
            ]
        )

    async def insert(self, like_id: int, user_id: int, post_id: int) -> bool:
        """Like the post; False when the user already did."""
        try:
            await self._likes.insert_one({"_id": like_id, "user_id": user_id, "post_id": post_id})
        except DuplicateKeyError:
            return False
        finally:
            await self._cache.delete((user_id, post_id))
        return True

    async def delete(self, user_id: int, post_id: int) -> bool:
        """Unlike; False when there was no like."""
        result = await self._likes.delete_one({"user_id": user_id, "post_id": post_id})
        await self._cache.delete((user_id, post_id))
        return bool(result.deleted_count)

    async def delete_for_post(self, post_id: int) -> None:
        await self._likes.delete_many({"post_id": post_id})

    async def latest_likers(
        self, post_id: int, *, excluding: Iterable[int], limit: int
    ) -> list[tuple[int, int]]:
        """(like id, user id) of the post's latest `limit` likes, newest first, leaving out
        the likes of the users in `excluding`."""
        query = {"post_id": post_id, "user_id": {"$nin": list(excluding)}}
        cursor = self._likes.find(query, {"user_id": 1}).sort("_id", DESCENDING).limit(limit)
        return [(document["_id"], document["user_id"]) async for document in cursor]

    async def count_likes_by(self, post_id: int, user_ids: Iterable[int]) -> int:
        """How many of `user_ids` like the post: one index lookup each, whatever the number
        of the post's likes."""
        return await self._likes.count_documents(
            {"post_id": post_id, "user_id": {"$in": list(user_ids)}}
        )

    async def recent_post_ids_liked_by(self, user_ids: list[int], *, limit: int) -> list[int]:
        """Posts the users liked lately, newest like first: Explore's social candidates."""
        cursor = (
            self._likes.find({"user_id": {"$in": user_ids}}, {"post_id": 1})
            .sort("_id", DESCENDING)
            .limit(limit)
        )
        return list(dict.fromkeys([int(document["post_id"]) async for document in cursor]))

    async def liked(self, user_id: int, post_ids: Iterable[int]) -> set[int]:
        """Those of `post_ids` that `user_id` likes."""

        async def load(pairs: list[Pair]) -> dict[Pair, str]:
            cursor = self._likes.find(
                {"user_id": user_id, "post_id": {"$in": [post_id for _, post_id in pairs]}},
                {"post_id": 1},
            )
            liked = {document["post_id"] async for document in cursor}
            return {pair: LIKED if pair[1] in liked else NOT_LIKED for pair in pairs}

        pairs = [(user_id, post_id) for post_id in post_ids]
        values = await self._cache.read_through(pairs, load)
        return {post_id for (_, post_id), value in values.items() if value == LIKED}
