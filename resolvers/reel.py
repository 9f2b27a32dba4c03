"""Reels: short videos, created from one MP4 upload, processed by a job, watched in a ranked
stream (resolvers/feed.py's `reels`), and counted as they are watched.

A reel is a post with a video: a document of the `posts` collection with a `video` field
(its processing state) and a `view_count`. So a reel is liked, commented on, subscribed to
(postLiked, commentAdded), notified about, cached, counted and hidden exactly as a post is,
by the code that does it for posts, and its global id (`Reel:<id>`) is taken wherever a
post's is (`resolve_post_argument`). A separate collection would have needed a second copy
of likes, comments, counters, previews, notifications and their visibility checks. What
keeps reels apart is on the reads: the lists of photo posts (a profile's grid, hashtag
pages, the home feed and its rebuilds, Explore) leave out every document with a video
(storage/post.py's NOT_REEL, and `_showable` in resolvers/feed.py), reels do not count in
an account's `postCount` nor on hashtags, and are not fanned out into home feeds; the reels
stream reads READY reels only. A reel reached through a field typed Post (a comment's post,
a notification's, postLiked's) comes as a Post, its media one VIDEO.

A reel exists at once as PROCESSING (its `video` null, its poster shown), and is visible to
others only once READY (loaders/visibility.py); FAILED reels stay visible to their author
alone, with the reason.

Views: `recordReelView` is called by every client for every reel watched, so it costs the
reel's read (the loaders: the record cache and the visibility checks) and one or two
writes: a `reel_views` insert, unique per (reel, viewer), and, for a first view only, the
`$inc` of `view_count`. Every watch, first or not, goes to the interaction log (buffered,
no round trip) with the seconds watched, capped at the reel's duration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from media.video import MAX_REEL_SECONDS
from resolvers import video
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError
from resolvers.ids import node_argument
from resolvers.media import MediaWriter, rendition_keys
from resolvers.post import (
    PostResult,
    caption_errors,
    mentioned_user_ids,
    parse_hashtags,
    visible_reel,
)
from resolvers.upload import unused_uploads
from resolvers.viewer import require_viewer
from storage.interaction import Interaction, InteractionKind
from storage.mention import parse_mentions
from storage.mongo import whole_milliseconds
from storage.post import ClientMutationIdReused, PostRecord
from storage.user import UserRecord
from storage.video import VideoOwner, VideoStatus

# A watch may loop a reel, but not for longer than this: an hour on one 90 s reel is a
# client's bug or a forged call, and would skew the watch-time the model learns from.
MAX_WATCHED_SECONDS = 3_600.0
# The reels stream's candidates per window: the newest READY reels of the accounts the
# viewer follows, and the newest of everyone's (of which the visibility policy keeps the
# public ones), each one query.
REELS_FOLLOWED_CANDIDATES = 100
REELS_RECENT_CANDIDATES = 200
REELS_PAGE_SIZE = 10  # the contract's default


@dataclass(frozen=True, slots=True)
class RecordViewResult:
    ok: bool = False
    errors: list[FieldError] = field(default_factory=list)


async def create_reel(
    context: Context, raw_upload_id: str, caption: str | None, client_mutation_id: str | None
) -> PostResult:
    """The reel, PROCESSING, with its transcode queued; or payload errors, with nothing
    written (the upload stays usable, no media is left)."""
    viewer = require_viewer(context)
    caption = (caption or "").strip()
    if errors := caption_errors(caption, client_mutation_id):
        return PostResult(errors=errors)
    stores = context.services.stores
    if client_mutation_id is not None:
        earlier = await _earlier(context, viewer, client_mutation_id)
        if earlier is not None:
            return earlier
    uploads = await unused_uploads(context, [raw_upload_id], "uploadId")
    if isinstance(uploads, FieldError):
        return PostResult(errors=[uploads])
    [upload] = uploads
    checked = await video.checked_video(context, upload, MAX_REEL_SECONDS, "uploadId")
    if isinstance(checked, FieldError):
        return PostResult(errors=[checked])
    mention_ids = tuple(await mentioned_user_ids(context, parse_mentions(caption)))
    reel_id = context.services.ids.next_id()
    claim_key = f"reel:{reel_id}"
    if not await stores.uploads.claim([upload.id], viewer.id, claim_key):
        return PostResult(
            errors=[FieldError(ErrorCode.INVALID, "uploadId", "The upload was used meanwhile.")]
        )
    # From here on, whatever fails gives the upload back and removes the stored poster.
    writer = MediaWriter(context)
    try:
        [poster] = await writer.store([checked.poster])
        reel = PostRecord(
            id=reel_id,
            author_id=viewer.id,
            caption=caption,
            hashtags=parse_hashtags(caption),
            mention_ids=mention_ids,
            media=(video.processing_media(context, checked, poster),),
            like_count=0,
            comment_count=0,
            preview_comments=(),
            created_at=whole_milliseconds(context.services.clock()),
            video=video.processing_state(upload, checked),
        )
        await stores.posts.insert(reel, client_mutation_id=client_mutation_id)
    except ClientMutationIdReused:
        # A retry of this very call won the race: hand back what it created.
        await stores.uploads.release([upload.id], claim_key)
        assert client_mutation_id is not None
        won = await stores.posts.find_by_client_mutation_id(viewer.id, client_mutation_id)
        keep = rendition_keys(won.media if won else ())
        if won is not None and won.media and won.media[0].poster_key:
            keep = keep | {won.media[0].poster_key}
        await writer.take_back(keep=keep)
        return PostResult(post=won)
    except BaseException:
        await stores.uploads.release([upload.id], claim_key)
        await writer.take_back()
        raise
    await writer.confirm()
    await video.enqueue(context.services, VideoOwner.REEL, reel.id, upload.key)
    return PostResult(post=reel)


async def _earlier(
    context: Context, viewer: UserRecord, client_mutation_id: str
) -> PostResult | None:
    """What an earlier call with this clientMutationId made, if any."""
    earlier = await context.services.stores.posts.find_by_client_mutation_id(
        viewer.id, client_mutation_id
    )
    if earlier is None:
        return None
    if not earlier.is_reel:
        return PostResult(
            errors=[
                FieldError(
                    ErrorCode.INVALID, "clientMutationId", "A post was made with this value."
                )
            ]
        )
    return PostResult(post=earlier)


async def record_reel_view(
    context: Context, raw_reel_id: str, watched_seconds: float
) -> RecordViewResult:
    viewer = require_viewer(context)
    if not math.isfinite(watched_seconds) or not 0 <= watched_seconds <= MAX_WATCHED_SECONDS:
        return RecordViewResult(
            errors=[
                FieldError(
                    ErrorCode.INVALID,
                    "watchedSeconds",
                    f"Give the seconds watched, 0 to {MAX_WATCHED_SECONDS:,.0f}.",
                )
            ]
        )
    reel = await node_argument(context, raw_reel_id, "Reel", "reelId", visible_reel)
    if isinstance(reel, FieldError):
        return RecordViewResult(errors=[reel])
    assert reel.video is not None
    if reel.video.status is not VideoStatus.READY:
        return RecordViewResult(
            errors=[FieldError(ErrorCode.INVALID, "reelId", "The reel is not ready to watch.")]
        )
    if reel.author_id == viewer.id:
        return RecordViewResult(ok=True)  # an author's own watches are neither counted nor logged
    services = context.services
    now = services.clock()
    stores = services.stores
    if await stores.reel_views.record_first(services.ids.next_id(), reel.id, viewer.id, now):
        await services.stores.posts.increment_counts(reel.id, view=1)
    duration = reel.video.duration_seconds
    services.interactions.record(
        Interaction(
            kind=InteractionKind.REEL_WATCH,
            viewer_id=viewer.id,
            author_id=reel.author_id,
            at=now,
            post_id=reel.id,
            hashtags=reel.hashtags,
            watched_seconds=min(watched_seconds, duration),
            duration_seconds=duration,
        )
    )
    return RecordViewResult(ok=True)


async def reel_candidates(context: Context, followees: list[int]) -> list[int]:
    """A window's candidates, newest first: READY reels of the accounts the viewer follows
    (`followees`), and the newest READY reels of everyone. Two MongoDB queries."""
    posts = context.services.stores.posts
    followed = await posts.ready_reel_ids(author_ids=followees, limit=REELS_FOLLOWED_CANDIDATES)
    recent = await posts.ready_reel_ids(author_ids=None, limit=REELS_RECENT_CANDIDATES)
    return sorted(set(followed) | set(recent), reverse=True)


def shown_in_stream(viewer: UserRecord, posts: list[PostRecord]) -> list[PostRecord]:
    """Of posts the viewer may see, those the reels stream shows: READY reels of others."""
    return [
        post
        for post in posts
        if post.video is not None
        and post.video.status is VideoStatus.READY
        and post.author_id != viewer.id
    ]
