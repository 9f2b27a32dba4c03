"""The `comments` collection: comments on posts and replies to them (one level deep)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pymongo import ASCENDING, IndexModel

from storage.cache import Cache
from storage.mongo import Collection, Document


@dataclass(frozen=True, slots=True)
class CommentRecord:
    id: int
    post_id: int
    author_id: int
    text: str
    reply_to_id: int | None  # the top-level comment this replies to
    reply_count: int
    created_at: datetime


def _record(document: Document) -> CommentRecord:
    return CommentRecord(
        id=document["_id"],
        post_id=document["post_id"],
        author_id=document["author_id"],
        text=document["text"],
        reply_to_id=document.get("reply_to_id"),
        reply_count=document.get("reply_count", 0),
        created_at=document["created_at"],
    )


class CommentStore:
    def __init__(self, collection: Collection, cache: Cache[int, CommentRecord]) -> None:
        self._comments = collection
        self._cache = cache

    async def create_indexes(self) -> None:
        await self._comments.create_indexes(
            [
                # Top-level comments of a post in order, and the replies to a comment.
                IndexModel(
                    [("post_id", ASCENDING), ("reply_to_id", ASCENDING), ("_id", ASCENDING)]
                ),
                IndexModel([("reply_to_id", ASCENDING), ("_id", ASCENDING)]),
            ]
        )

    async def insert(self, comment: CommentRecord) -> None:
        await self._comments.insert_one(
            {
                "_id": comment.id,
                "post_id": comment.post_id,
                "author_id": comment.author_id,
                "text": comment.text,
                "reply_to_id": comment.reply_to_id,
                "reply_count": 0,
                "created_at": comment.created_at,
            }
        )

    async def find_by_ids(self, comment_ids: Iterable[int]) -> dict[int, CommentRecord]:
        return await self._cache.read_through(comment_ids, self._load)

    async def _load(self, ids: list[int]) -> dict[int, CommentRecord]:
        cursor = self._comments.find({"_id": {"$in": ids}})
        return {document["_id"]: _record(document) async for document in cursor}

    async def page(
        self, post_id: int, reply_to_id: int | None, *, after_id: int | None, limit: int
    ) -> list[CommentRecord]:
        """Oldest first: top-level comments of the post (reply_to_id None), or replies."""
        query: Document = {"post_id": post_id, "reply_to_id": reply_to_id}
        if after_id is not None:
            query["_id"] = {"$gt": after_id}
        cursor = self._comments.find(query).sort("_id", ASCENDING).limit(limit)
        return [_record(document) async for document in cursor]

    async def delete(self, comment_id: int) -> CommentRecord | None:
        """Remove the comment; returns it to the one caller whose delete happened."""
        document = await self._comments.find_one_and_delete({"_id": comment_id})
        await self._cache.delete(comment_id)
        return None if document is None else _record(document)

    async def delete_replies(self, comment_id: int) -> int:
        """Remove the replies to a comment; how many there were."""
        reply_ids = [
            document["_id"]
            async for document in self._comments.find({"reply_to_id": comment_id}, {"_id": 1})
        ]
        if not reply_ids:
            return 0
        result = await self._comments.delete_many({"_id": {"$in": reply_ids}})
        await self._cache.delete(*reply_ids)
        return int(result.deleted_count)

    async def delete_for_post(self, post_id: int) -> None:
        await self._comments.delete_many({"post_id": post_id})

    async def increment_reply_count(self, comment_id: int, delta: int) -> None:
        await self._comments.update_one({"_id": comment_id}, {"$inc": {"reply_count": delta}})
        await self._cache.delete(comment_id)
