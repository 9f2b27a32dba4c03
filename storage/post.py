"""The `posts` collection, with denormalised like and comment counters updated by `$inc`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from storage.cache import Cache
from storage.mongo import Collection, Document

# Top-level comments kept on the post for previews (the feed shows two), so a page of posts
# needs no query per post for them; one more than shown tells whether there are more.
PREVIEW_COMMENTS = 4


@dataclass(frozen=True, slots=True)
class RenditionRecord:
    width: int
    height: int
    key: str


@dataclass(frozen=True, slots=True)
class MediaRecord:
    id: int
    type: str  # "IMAGE" (videos come with reels)
    width: int
    height: int
    renditions: tuple[RenditionRecord, ...]  # widest first


@dataclass(frozen=True, slots=True)
class CommentRef:
    """A preview comment, with its author so a page can load every author in one batch."""

    id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class PostRecord:
    id: int
    author_id: int
    caption: str
    hashtags: tuple[str, ...]
    mention_ids: tuple[int, ...]
    media: tuple[MediaRecord, ...]
    like_count: int
    comment_count: int
    preview_comments: tuple[CommentRef, ...]  # the oldest top-level comments, oldest first
    created_at: datetime


class ClientMutationIdReused(Exception):
    """The author already made a post with this clientMutationId."""


def media_document(media: MediaRecord) -> Document:
    return {
        "id": media.id,
        "type": media.type,
        "width": media.width,
        "height": media.height,
        "renditions": [
            {"width": r.width, "height": r.height, "key": r.key} for r in media.renditions
        ],
    }


def media_record(document: Document) -> MediaRecord:
    return MediaRecord(
        id=document["id"],
        type=document["type"],
        width=document["width"],
        height=document["height"],
        renditions=tuple(
            RenditionRecord(r["width"], r["height"], r["key"]) for r in document["renditions"]
        ),
    )


def _record(document: Document) -> PostRecord:
    return PostRecord(
        id=document["_id"],
        author_id=document["author_id"],
        caption=document["caption"],
        hashtags=tuple(document["hashtags"]),
        mention_ids=tuple(document["mention_ids"]),
        media=tuple(media_record(media) for media in document["media"]),
        like_count=document["like_count"],
        comment_count=document["comment_count"],
        preview_comments=tuple(
            CommentRef(ref["id"], ref["author_id"])
            for ref in sorted(document["preview_comments"], key=lambda ref: ref["id"])
        ),
        created_at=document["created_at"],
    )


class PostStore:
    def __init__(self, collection: Collection, cache: Cache[int, PostRecord]) -> None:
        self._posts = collection
        self._cache = cache

    async def create_indexes(self) -> None:
        await self._posts.create_indexes(
            [
                IndexModel([("author_id", ASCENDING), ("_id", DESCENDING)]),
                IndexModel([("hashtags", ASCENDING), ("_id", DESCENDING)]),
                IndexModel([("like_count", DESCENDING), ("_id", DESCENDING)]),
                # "<author id>:<clientMutationId>", only on posts made with one.
                IndexModel([("client_key", ASCENDING)], unique=True, sparse=True),
            ]
        )

    async def insert(self, post: PostRecord, *, client_mutation_id: str | None) -> None:
        document: Document = {
            "_id": post.id,
            "author_id": post.author_id,
            "caption": post.caption,
            "hashtags": list(post.hashtags),
            "mention_ids": list(post.mention_ids),
            "media": [media_document(media) for media in post.media],
            "like_count": 0,
            "comment_count": 0,
            "preview_comments": [],
            "created_at": post.created_at,
        }
        if client_mutation_id is not None:
            document["client_key"] = f"{post.author_id}:{client_mutation_id}"
        try:
            await self._posts.insert_one(document)
        except DuplicateKeyError as error:
            raise ClientMutationIdReused(client_mutation_id) from error

    async def find_by_client_mutation_id(
        self, author_id: int, client_mutation_id: str
    ) -> PostRecord | None:
        document = await self._posts.find_one({"client_key": f"{author_id}:{client_mutation_id}"})
        return None if document is None else _record(document)

    async def find_by_ids(self, post_ids: Iterable[int]) -> dict[int, PostRecord]:
        return await self._cache.read_through(post_ids, self._load)

    async def _load(self, ids: list[int]) -> dict[int, PostRecord]:
        cursor = self._posts.find({"_id": {"$in": ids}})
        return {document["_id"]: _record(document) async for document in cursor}

    async def delete(self, post_id: int) -> PostRecord | None:
        """Remove the post; returns it to the one caller whose delete happened."""
        document = await self._posts.find_one_and_delete({"_id": post_id})
        await self._cache.delete(post_id)
        return None if document is None else _record(document)

    async def page_by_author(
        self, author_id: int, *, before_id: int | None, limit: int
    ) -> list[PostRecord]:
        return await self._page({"author_id": author_id}, before_id, limit)

    async def page_by_hashtag(
        self, hashtag: str, *, before_id: int | None, limit: int
    ) -> list[PostRecord]:
        return await self._page({"hashtags": hashtag}, before_id, limit)

    async def _page(self, query: Document, before_id: int | None, limit: int) -> list[PostRecord]:
        """Newest first, older than `before_id`. (Pages do not fill the cache: rewriting a
        page of records on every read would cost more than the misses it saves.)"""
        if before_id is not None:
            query = {**query, "_id": {"$lt": before_id}}
        cursor = self._posts.find(query).sort("_id", DESCENDING).limit(limit)
        return [_record(document) async for document in cursor]

    async def ids_by_authors(
        self, author_ids: list[int], *, before_id: int | None, limit: int
    ) -> list[int]:
        """Ids of the newest posts of any of `author_ids` (feed rebuilds read only ids)."""
        if not author_ids:
            return []
        query: Document = {"author_id": {"$in": author_ids}}
        if before_id is not None:
            query["_id"] = {"$lt": before_id}
        cursor = self._posts.find(query, {"_id": 1}).sort("_id", DESCENDING).limit(limit)
        return [int(document["_id"]) async for document in cursor]

    async def most_liked_since(self, since_id: int, *, limit: int) -> list[PostRecord]:
        """Posts newer than `since_id`, most liked first: Explore's popular candidates."""
        cursor = (
            self._posts.find({"_id": {"$gt": since_id}})
            .sort([("like_count", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [_record(document) async for document in cursor]

    async def increment_counts(self, post_id: int, **counts: int) -> PostRecord | None:
        """Atomically add to `<name>_count` fields (like=1, comment=-2); returns the post as
        this update left it (None if it no longer exists). The counters live in the cached
        record, so each change invalidates it: readers see the new count from then on."""
        document = await self._posts.find_one_and_update(
            {"_id": post_id},
            {"$inc": {f"{name}_count": delta for name, delta in counts.items()}},
            return_document=ReturnDocument.AFTER,
        )
        await self._cache.delete(post_id)
        return None if document is None else _record(document)

    async def add_preview_comment(self, post_id: int, comment: CommentRef) -> None:
        """Keep the oldest PREVIEW_COMMENTS top-level comments, whatever the order of
        concurrent calls ($push with $sort and $slice is one atomic update)."""
        entry = {"id": comment.id, "author_id": comment.author_id}
        await self._posts.update_one(
            {"_id": post_id},
            {
                "$push": {
                    "preview_comments": {
                        "$each": [entry],
                        "$sort": {"id": 1},
                        "$slice": PREVIEW_COMMENTS,
                    }
                }
            },
        )
        await self._cache.delete(post_id)

    async def set_preview_comments(self, post_id: int, comments: list[CommentRef]) -> None:
        entries = [{"id": comment.id, "author_id": comment.author_id} for comment in comments]
        await self._posts.update_one({"_id": post_id}, {"$set": {"preview_comments": entries}})
        await self._cache.delete(post_id)
