"""Stories: a photo or a video shown for 24 hours to those who may see its author's content,
the tray of accounts with live stories, who has seen what, and who saw a story (for its
author).

A video story (an MP4 of up to MAX_STORY_SECONDS) is probed in the request and transcoded
by the video job, as a reel is (resolvers/video.py, jobs/video.py): it exists at once as
PROCESSING, which only its author sees (its media's `url` is the poster until then), and
joins the tray of others once READY; a FAILED one stays visible to its author alone, with
the reason. Its 24 hours count from its creation.

The tray reads, per viewer, the set of followed authors with a live story that fan-out keeps
up to date on write (storage/story.py), plus the large accounts the viewer follows (never
fanned out, merged at read time as the home feed does) and the viewer; then every live story
of those authors in one query, the viewer's seen state of them in one, and the authors, the
blocks, the follow states and the follows' times in one cached batch each. Its cost in round
trips does not depend on how many accounts the viewer follows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from redis.exceptions import RedisError

from media.accepted import IMAGE_CONTENT_TYPES, VIDEO_CONTENT_TYPES
from media.image import render_post_image
from media.video import MAX_STORY_SECONDS
from resolvers import fanout, video
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, Forbidden
from resolvers.feed import FOLLOWING_LIMIT, _followed_large_accounts
from resolvers.ids import node_argument
from resolvers.media import MediaWriter, RenderedImage, rendered_uploads
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    decode_cursor,
    page_size,
    visible_keyset_page,
)
from resolvers.upload import unused_uploads
from resolvers.viewer import require_viewer
from storage.fanout_queue import FanoutOp
from storage.follow import FollowState
from storage.mongo import whole_milliseconds
from storage.story import (
    MAX_LIVE_STORIES_PER_AUTHOR,
    STORY_LIFETIME,
    StoryRecord,
    StoryView,
)
from storage.user import UserRecord
from storage.video import VideoOwner, VideoState

logger = logging.getLogger(__name__)

# Accounts in one tray, the viewer's own first: a phone shows a handful at a time, and 40
# accounts of MAX_LIVE_STORIES_PER_AUTHOR stories each keep the StoryTray operation at a
# fifth of the query cost bound (the contract's tray has no page argument).
TRAY_MAX_ENTRIES = 40


@dataclass(frozen=True, slots=True)
class StoryResult:
    story: StoryRecord | None = None
    errors: list[FieldError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TrayEntry:
    user: UserRecord
    stories: list[StoryRecord]  # oldest first, as they play
    has_unseen: bool


async def visible_story(context: Context, story_id: int) -> StoryRecord | None:
    """The story, if it exists, is live and the viewer may see it."""
    return await context.loaders.story_by_id.load(story_id)


async def create_story(context: Context, raw_upload_id: str) -> StoryResult:
    viewer = require_viewer(context)
    services, stores = context.services, context.services.stores
    uploads = await unused_uploads(context, [raw_upload_id], "uploadId")
    if isinstance(uploads, FieldError):
        return StoryResult(errors=[uploads])
    is_video = uploads[0].content_type in VIDEO_CONTENT_TYPES
    if not is_video and uploads[0].content_type not in IMAGE_CONTENT_TYPES:
        return StoryResult(
            errors=[FieldError(ErrorCode.INVALID, "uploadId", "The upload is not an image.")]
        )
    now = services.clock()
    if await stores.stories.live_count(viewer.id, now=now) >= MAX_LIVE_STORIES_PER_AUTHOR:
        return StoryResult(
            errors=[
                FieldError(
                    ErrorCode.INVALID,
                    "uploadId",
                    f"At most {MAX_LIVE_STORIES_PER_AUTHOR} stories can be live at once.",
                )
            ]
        )
    checked: video.CheckedVideo | None = None
    rendered: list[RenderedImage] | FieldError
    if is_video:
        found = await video.checked_video(context, uploads[0], MAX_STORY_SECONDS, "uploadId")
        if isinstance(found, FieldError):
            return StoryResult(errors=[found])
        checked, rendered = found, [found.poster]
    else:
        rendered = await rendered_uploads(context, uploads, render_post_image, "uploadId")
    if isinstance(rendered, FieldError):
        return StoryResult(errors=[rendered])
    story_id = services.ids.next_id()
    claim_key = f"story:{story_id}"
    upload_ids = [uploads[0].id]
    if not await stores.uploads.claim(upload_ids, viewer.id, claim_key):
        return StoryResult(
            errors=[FieldError(ErrorCode.INVALID, "uploadId", "The upload was used meanwhile.")]
        )
    # From here on, whatever fails gives the upload back and removes what was stored.
    writer = MediaWriter(context)
    try:
        [media] = await writer.store(rendered)
        processing: VideoState | None = None
        if checked is not None:  # the stored image is the video's poster
            media = video.processing_media(context, checked, media)
            processing = video.processing_state(uploads[0], checked)
        created_at = whole_milliseconds(now)
        story = StoryRecord(
            id=story_id,
            author_id=viewer.id,
            media=media,
            created_at=created_at,
            expires_at=created_at + STORY_LIFETIME,
            viewer_count=0,
            video=processing,
        )
        await stores.stories.insert(story)
    except BaseException:
        await stores.uploads.release(upload_ids, claim_key)
        await writer.take_back()
        raise
    await writer.confirm()
    if processing is not None:
        await video.enqueue(services, VideoOwner.STORY, story.id, processing.source_key)
    await fanout.enqueue(services, FanoutOp.STORY_PUSH, story.id, viewer.id)
    return StoryResult(story=story)


async def mark_story_seen(context: Context, raw_story_id: str) -> StoryResult:
    """Idempotent: seeing a story again changes nothing. The author's own views are not
    recorded (their stories count as seen by them, and they are not among the viewers)."""
    viewer = require_viewer(context)
    story = await node_argument(context, raw_story_id, "Story", "storyId", visible_story)
    if isinstance(story, FieldError):
        return StoryResult(errors=[story])
    if story.author_id != viewer.id:
        services = context.services
        await services.stores.stories.record_view(services.ids.next_id(), story, viewer.id)
        context.loaders.seen_by_story_id.clear(story.id).prime(story.id, True)
    return StoryResult(story=story)


async def viewer_has_seen(context: Context, story: StoryRecord) -> bool:
    viewer = context.viewer
    if viewer is not None and viewer.id == story.author_id:
        return True
    return await context.loaders.seen_by_story_id.load(story.id)


def _require_author(context: Context, story: StoryRecord) -> None:
    viewer = context.viewer
    if viewer is None or viewer.id != story.author_id:
        raise Forbidden("Only the story's author may see who viewed it.")


def viewer_count(context: Context, story: StoryRecord) -> int:
    _require_author(context, story)
    return story.viewer_count


async def story_viewers(
    context: Context, story: StoryRecord, first: int | None, after: str | None
) -> Page[UserRecord]:
    """Who saw the story, newest view first; accounts hidden from the author are left out."""
    _require_author(context, story)
    size, before_id = page_size(first, DEFAULT_PAGE_SIZE), decode_cursor(after)
    stories = context.services.stores.stories
    users_by_id: dict[int, UserRecord] = {}

    async def fetch(older_than: int | None, limit: int) -> list[StoryView]:
        return await stories.page_views(story.id, before_id=older_than, limit=limit)

    async def keep(rows: list[StoryView]) -> list[StoryView]:
        users = await context.loaders.user_by_id.load_many([row.viewer_id for row in rows])
        users_by_id.update((user.id, user) for user in users if user is not None)
        return [row for row in rows if row.viewer_id in users_by_id]

    page = await visible_keyset_page(fetch, keep, lambda row: row.id, size, before_id)
    return Page(
        edges=[(cursor, users_by_id[row.viewer_id]) for cursor, row in page.edges],
        has_next_page=page.has_next_page,
    )


async def story_tray(context: Context) -> list[TrayEntry]:
    """The viewer's own entry first (when they have a live story), then the followed
    accounts with unseen stories, then those whose stories they have all seen; within each
    group the closest first (`closeness`). At most TRAY_MAX_ENTRIES entries."""
    viewer = require_viewer(context)
    loaders = context.loaders
    now = loaders.visibility.now()  # one instant for the whole tray
    authors = await _tray_authors(context, viewer, now)
    large = await _followed_large_accounts(context, viewer)
    candidates = list(dict.fromkeys([viewer.id, *authors, *large]))
    stories = await context.services.stores.stories.live_by_authors(candidates, now=now)
    shown = await loaders.story_by_id.filter(stories)
    others = list({story.author_id for story in shown} - {viewer.id})
    states = await loaders.follow_state_by_user_id.load_many(others)
    followed = {
        author
        for author, state in zip(others, states, strict=True)
        if state is FollowState.FOLLOWING
    }
    by_author: dict[int, list[StoryRecord]] = {}
    for story in shown:
        if story.author_id == viewer.id or story.author_id in followed:
            by_author.setdefault(story.author_id, []).append(story)
    others_stories = [
        story for author, own in by_author.items() if author != viewer.id for story in own
    ]
    seen = await loaders.seen_by_story_id.load_many([story.id for story in others_stories])
    seen_ids = {story.id for story, was in zip(others_stories, seen, strict=True) if was}
    users = await loaders.user_by_id.load_many(list(by_author))
    close = await closeness(
        context, viewer, [author for author in by_author if author != viewer.id]
    )
    entries = [
        TrayEntry(
            user=user,
            # The newest MAX_LIVE_STORIES_PER_AUTHOR, should a race have let in more.
            stories=by_author[user.id][-MAX_LIVE_STORIES_PER_AUTHOR:],
            has_unseen=user.id != viewer.id
            and any(story.id not in seen_ids for story in by_author[user.id]),
        )
        for user in users
        if user is not None
    ]
    entries.sort(
        key=lambda entry: (
            entry.user.id != viewer.id,
            not entry.has_unseen,
            -close.get(entry.user.id, 0),
            -entry.stories[-1].id,
        )
    )
    return entries[:TRAY_MAX_ENTRIES]


async def closeness(context: Context, viewer: UserRecord, author_ids: list[int]) -> dict[int, int]:
    """How close the viewer is to each author, higher first in the tray: the viewer's recent
    interactions with them (the affinity counters of storage/affinity.py: decayed likes,
    comments, profile opens and messages, one Redis round trip whatever the number of
    authors), then, for ties and authors without any, how recently the viewer followed them
    (a follow id is time-ordered). Callers only rely on "higher is closer"."""
    if not author_ids:
        return {}
    stores = context.services.stores
    followed_at = await stores.follows.follow_ids(viewer.id, author_ids)
    try:
        interactions = await stores.affinity.interactions_with(
            viewer.id, author_ids, context.loaders.visibility.now()
        )
    except RedisError as error:
        logger.warning("story tray ordered by follow recency, Redis failed: %s", error)
        interactions = {}
    order = sorted(
        author_ids, key=lambda author: (interactions.get(author, 0.0), followed_at.get(author, 0))
    )
    return {author: rank for rank, author in enumerate(order, start=1)}


async def _tray_authors(context: Context, viewer: UserRecord, now: datetime) -> list[int]:
    """The followed authors with a live story, from the viewer's tray in Redis, rebuilt from
    MongoDB when it is not known complete; from MongoDB alone when Redis fails."""
    stores = context.services.stores
    try:
        tray = await stores.story_trays.read(viewer.id, now=now)
        if tray.built:
            return tray.author_ids
        expiries = await _live_followees(context, viewer, now)
        await stores.story_trays.rebuild(viewer.id, expiries, now=now)
        return list(dict.fromkeys([*tray.author_ids, *expiries]))
    except RedisError as error:
        logger.warning("story tray read from MongoDB, Redis failed: %s", error)
        return list(await _live_followees(context, viewer, now))


async def _live_followees(
    context: Context, viewer: UserRecord, now: datetime
) -> dict[int, datetime]:
    stores = context.services.stores
    followees = await stores.follows.followee_ids(viewer.id, limit=FOLLOWING_LIMIT)
    return await stores.stories.latest_expiries(followees, now=now)
