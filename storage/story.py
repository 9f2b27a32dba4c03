"""Stories: the `stories` and `story_views` collections, and each viewer's story tray in Redis.

A story lives STORY_LIFETIME from its creation. Readers compare `expires_at` to their clock,
so an expired story is gone from every read at the second it expires; a TTL index on
`expires_at` then removes it (and its views) from MongoDB within a minute (MongoDB's TTL
monitor runs every 60 s).

The tray (`tray_key`) is a sorted set per viewer: the followed authors with a live story,
each scored by the expiry of their newest story (milliseconds), plus the member
TRAY_BUILT_MEMBER, scored by when the set must next be rebuilt from MongoDB. Every write sets
the key to expire with its highest score, so a tray that nobody writes to disappears by
itself once its last story and its build marker have expired: nothing is left in Redis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from storage.mongo import Collection, Document
from storage.post import MediaRecord, media_document, media_record
from storage.redis import Redis
from storage.video import VideoState, VideoStatus, video_document, video_state

STORY_LIFETIME = timedelta(hours=24)  # as Instagram
# Stories one author may have live at once. Instagram allows 100 a day; the tray returns
# every live story of up to TRAY_MAX_ENTRIES accounts in one response, which must cost a
# fifth of the query cost bound at most (schema/cost.py): 40 accounts of 10 stories do.
MAX_LIVE_STORIES_PER_AUTHOR = 10
TRAY_BATCH = 1_000  # trays written per Lua call: bounds how long one call blocks Redis
TRAY_BUILT_MEMBER = "0"  # no author has id 0
# How long a tray built from MongoDB is trusted before it is built again: pushes keep it
# exact meanwhile, and a push lost (a dead-lettered job, a Redis failover) heals by then.
TRAY_REBUILD_AFTER = STORY_LIFETIME

# For each key: add each (score, member) pair of ARGV unless the member has a higher score
# (ZADD GT), then make the key expire with its highest score. One round trip per batch.
_ADD_SCRIPT = """
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'GT', unpack(ARGV))
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', key, top[2])
end
return #KEYS
"""


@dataclass(frozen=True, slots=True)
class StoryRecord:
    id: int
    author_id: int
    media: MediaRecord
    created_at: datetime
    expires_at: datetime
    viewer_count: int  # distinct accounts that marked it seen, the author excepted
    video: VideoState | None = None  # a video story's processing: shown once READY


@dataclass(frozen=True, slots=True)
class StoryView:
    id: int  # time-ordered: the keyset of the viewers list, newest first
    viewer_id: int


@dataclass(frozen=True, slots=True)
class TrayRead:
    """A viewer's tray as Redis holds it: the authors with a live story, and whether the set
    is complete (built from MongoDB lately); when it is not, the caller rebuilds it."""

    author_ids: list[int]
    built: bool


class LiveStoriesExceeded(Exception):
    """The author already has MAX_LIVE_STORIES_PER_AUTHOR live stories."""


def _record(document: Document) -> StoryRecord:
    return StoryRecord(
        id=document["_id"],
        author_id=document["author_id"],
        media=media_record(document["media"]),
        created_at=document["created_at"],
        expires_at=document["expires_at"],
        viewer_count=document["viewer_count"],
        video=video_state(document.get("video")),
    )


def tray_key(viewer_id: int) -> str:
    return f"story-tray:{viewer_id}"


def milliseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class StoryStore:
    def __init__(self, stories: Collection, views: Collection) -> None:
        self._stories = stories
        self._views = views

    async def create_indexes(self) -> None:
        await self._stories.create_indexes(
            [
                IndexModel([("author_id", ASCENDING), ("expires_at", ASCENDING)]),
                # MongoDB's TTL monitor deletes a story once `expires_at` has passed.
                IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0),
            ]
        )
        await self._views.create_indexes(
            [
                IndexModel([("story_id", ASCENDING), ("viewer_id", ASCENDING)], unique=True),
                IndexModel([("story_id", ASCENDING), ("_id", DESCENDING)]),
                IndexModel([("viewer_id", ASCENDING), ("story_id", ASCENDING)]),
                IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0),
            ]
        )

    async def insert(self, story: StoryRecord) -> None:
        document: Document = {
            "_id": story.id,
            "author_id": story.author_id,
            "media": media_document(story.media),
            "created_at": story.created_at,
            "expires_at": story.expires_at,
            "viewer_count": 0,
        }
        if story.video is not None:
            document["video"] = video_document(story.video)
        await self._stories.insert_one(document)

    async def finish_video(self, story_id: int, video: VideoState, media: MediaRecord) -> bool:
        """Move the story's video from PROCESSING to `video` with `media`, once: False when it
        was not PROCESSING (done already, or expired and removed)."""
        result = await self._stories.update_one(
            {"_id": story_id, "video.status": VideoStatus.PROCESSING.value},
            {"$set": {"video": video_document(video), "media": media_document(media)}},
        )
        return bool(result.modified_count)

    async def delete(self, story_id: int) -> None:
        await self._stories.delete_one({"_id": story_id})

    async def find_by_ids(self, story_ids: Iterable[int]) -> dict[int, StoryRecord]:
        """The stories as stored, expired or not: callers decide what is live."""
        cursor = self._stories.find({"_id": {"$in": list(story_ids)}})
        return {document["_id"]: _record(document) async for document in cursor}

    async def live_by_authors(self, author_ids: list[int], *, now: datetime) -> list[StoryRecord]:
        """Every live story of `author_ids`, oldest first: one query, read in one batch."""
        if not author_ids:
            return []
        limit = len(author_ids) * MAX_LIVE_STORIES_PER_AUTHOR
        cursor = (
            self._stories.find({"author_id": {"$in": author_ids}, "expires_at": {"$gt": now}})
            .sort("_id", ASCENDING)
            .limit(limit)
            .batch_size(limit)
        )
        return [_record(document) async for document in cursor]

    async def live_count(self, author_id: int, *, now: datetime) -> int:
        return await self._stories.count_documents(
            {"author_id": author_id, "expires_at": {"$gt": now}},
            limit=MAX_LIVE_STORIES_PER_AUTHOR,
        )

    async def latest_expiries(self, author_ids: list[int], *, now: datetime) -> dict[int, datetime]:
        """When the newest live story of each of `author_ids` that has one expires."""
        if not author_ids:
            return {}
        cursor = self._stories.find(
            {"author_id": {"$in": author_ids}, "expires_at": {"$gt": now}},
            {"author_id": 1, "expires_at": 1},
        ).batch_size(len(author_ids) * MAX_LIVE_STORIES_PER_AUTHOR)
        latest: dict[int, datetime] = {}
        async for document in cursor:
            author, expires_at = document["author_id"], document["expires_at"]
            if author not in latest or expires_at > latest[author]:
                latest[author] = expires_at
        return latest

    async def record_view(self, view_id: int, story: StoryRecord, viewer_id: int) -> bool:
        """Record that `viewer_id` saw the story; False when they already had (nothing
        changes). The view expires with its story."""
        try:
            await self._views.insert_one(
                {
                    "_id": view_id,
                    "story_id": story.id,
                    "viewer_id": viewer_id,
                    "expires_at": story.expires_at,
                }
            )
        except DuplicateKeyError:
            return False
        await self._stories.update_one({"_id": story.id}, {"$inc": {"viewer_count": 1}})
        return True

    async def seen_story_ids(self, viewer_id: int, story_ids: list[int]) -> set[int]:
        """Those of `story_ids` that `viewer_id` has seen: one query."""
        if not story_ids:
            return set()
        cursor = self._views.find(
            {"viewer_id": viewer_id, "story_id": {"$in": story_ids}}, {"story_id": 1}
        ).batch_size(len(story_ids))
        return {document["story_id"] async for document in cursor}

    async def page_views(
        self, story_id: int, *, before_id: int | None, limit: int
    ) -> list[StoryView]:
        """Who saw the story, newest view first, older than `before_id`."""
        query: Document = {"story_id": story_id}
        if before_id is not None:
            query["_id"] = {"$lt": before_id}
        cursor = self._views.find(query).sort("_id", DESCENDING).limit(limit)
        return [StoryView(document["_id"], document["viewer_id"]) async for document in cursor]


class StoryTrayStore:
    """Per viewer, the followed authors with a live story (see the module's docstring)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._add = redis.register_script(_ADD_SCRIPT)

    async def push(self, viewer_ids: Iterable[int], author_id: int, expires_at: datetime) -> None:
        """The author has a story live until `expires_at`: into each viewer's tray."""
        keys = [tray_key(viewer_id) for viewer_id in viewer_ids]
        args: list[int | str] = [milliseconds(expires_at), str(author_id)]
        for start in range(0, len(keys), TRAY_BATCH):
            await self._add(keys=keys[start : start + TRAY_BATCH], args=args)

    async def remove(self, viewer_id: int, author_id: int) -> None:
        """The viewer no longer follows the author."""
        await self._redis.zrem(tray_key(viewer_id), str(author_id))

    async def rebuild(
        self, viewer_id: int, expiries: dict[int, datetime], *, now: datetime
    ) -> None:
        """Add what MongoDB says, and mark the tray complete until TRAY_REBUILD_AFTER. Adding
        (never replacing) keeps whatever a push wrote while MongoDB was being read."""
        args: list[int | str] = [milliseconds(now + TRAY_REBUILD_AFTER), TRAY_BUILT_MEMBER]
        for author_id, expires_at in expiries.items():
            args += [milliseconds(expires_at), str(author_id)]
        await self._add(keys=[tray_key(viewer_id)], args=args)

    async def read(self, viewer_id: int, *, now: datetime) -> TrayRead:
        """The live entries, in one round trip; expired ones are trimmed on the way."""
        key, now_ms = tray_key(viewer_id), milliseconds(now)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", now_ms)
            pipe.zrangebyscore(key, f"({now_ms}", "+inf")
            _, members = await pipe.execute()
        ids = [int(member) for member in members]
        built = 0 in ids
        return TrayRead(author_ids=[author for author in ids if author != 0], built=built)
