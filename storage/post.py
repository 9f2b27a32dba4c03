"""The `posts` collection, with denormalised like and comment counters updated by `$inc`.

A reel is a post with a `video` (its processing state, storage/video.py) and a view counter:
see resolvers/reel.py for why. The lists of photo posts (an author's grid, a hashtag, the
feed's rebuilds, Explore's popular posts) leave reels out (NOT_REEL); the reels stream reads
READY reels only (`ready_reel_ids`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from storage.cache import Cache
from storage.mongo import Collection, Document
from storage.video import VideoState, VideoStatus, video_document, video_state

# Top-level comments kept on the post for previews (the feed shows two), so a page of posts
# needs no query per post for them; one more than shown tells whether there are more.
PREVIEW_COMMENTS = 4
NOT_REEL: Document = {"video": {"$exists": False}}  # what lists of photo posts read


@dataclass(frozen=True, slots=True)
class RenditionRecord:
    width: int
    height: int
    key: str


@dataclass(frozen=True, slots=True)
class MediaRecord:
    id: int
    type: str  # "IMAGE" or "VIDEO"
    width: int
    height: int
    # Widest first. A VIDEO has its one rendition once it is READY, none before.
    renditions: tuple[RenditionRecord, ...]
    poster_key: str | None = None  # a VIDEO's poster frame (a JPEG)


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
    video: VideoState | None = None  # a reel's: only reels have one
    view_count: int = 0  # a reel's distinct viewers (its author excepted)

    @property
    def is_reel(self) -> bool:
        return self.video is not None


class ClientMutationIdReused(Exception):
    """The author already made a post with this clientMutationId."""


def media_document(media: MediaRecord) -> Document:
    document: Document = {
        "id": media.id,
        "type": media.type,
        "width": media.width,
        "height": media.height,
        "renditions": [
            {"width": r.width, "height": r.height, "key": r.key} for r in media.renditions
        ],
    }
    if media.poster_key is not None:
        document["poster_key"] = media.poster_key
    return document


def media_record(document: Document) -> MediaRecord:
    return MediaRecord(
        id=document["id"],
        type=document["type"],
        width=document["width"],
        height=document["height"],
        renditions=tuple(
            RenditionRecord(r["width"], r["height"], r["key"]) for r in document["renditions"]
        ),
        poster_key=document.get("poster_key"),
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
        video=video_state(document.get("video")),
        view_count=document.get("view_count", 0),
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
                # The reels stream: READY reels newest first, everyone's or some authors'.
                IndexModel([("video.status", ASCENDING), ("_id", DESCENDING)], sparse=True),
                IndexModel(
                    [("video.status", ASCENDING), ("author_id", ASCENDING), ("_id", DESCENDING)],
                    sparse=True,
                ),
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
        if post.video is not None:
            document["video"] = video_document(post.video)
            document["view_count"] = 0
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
        return await self._page({"author_id": author_id, **NOT_REEL}, before_id, limit)

    async def page_by_hashtag(
        self, hashtag: str, *, before_id: int | None, limit: int
    ) -> list[PostRecord]:
        return await self._page({"hashtags": hashtag, **NOT_REEL}, before_id, limit)

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
        query: Document = {"author_id": {"$in": author_ids}, **NOT_REEL}
        if before_id is not None:
            query["_id"] = {"$lt": before_id}
        cursor = self._posts.find(query, {"_id": 1}).sort("_id", DESCENDING).limit(limit)
        return [int(document["_id"]) async for document in cursor]

    async def most_liked_since(self, since_id: int, *, limit: int) -> list[PostRecord]:
        """Posts newer than `since_id`, most liked first: Explore's popular candidates."""
        cursor = (
            self._posts.find({"_id": {"$gt": since_id}, **NOT_REEL})
            .sort([("like_count", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [_record(document) async for document in cursor]

    async def ready_reel_ids(self, *, author_ids: list[int] | None, limit: int) -> list[int]:
        """Ids of the newest READY reels: everyone's (None), or those of `author_ids`."""
        query: Document = {"video.status": VideoStatus.READY.value}
        if author_ids is not None:
            if not author_ids:
                return []
            query["author_id"] = {"$in": author_ids}
        cursor = self._posts.find(query, {"_id": 1}).sort("_id", DESCENDING).limit(limit)
        return [int(document["_id"]) async for document in cursor]

    async def finish_video(
        self, post_id: int, video: VideoState, media: tuple[MediaRecord, ...]
    ) -> bool:
        """Move the reel's video from PROCESSING to `video` (READY or FAILED) with `media`,
        once: False when it was not PROCESSING (done already, or gone)."""
        result = await self._posts.update_one(
            {"_id": post_id, "video.status": VideoStatus.PROCESSING.value},
            {
                "$set": {
                    "video": video_document(video),
                    "media": [media_document(item) for item in media],
                }
            },
        )
        await self._cache.delete(post_id)
        return bool(result.modified_count)

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
