"""The home feed, Explore and the reels stream: the ranked lists.

The home feed's candidates come from the viewer's precomputed feed in Redis plus, at read
time, the recent posts of the large accounts the viewer follows. A feed that does not exist
(its owner was away, or Redis lost it) is rebuilt from MongoDB by the read that finds it
missing, which serves its page from the same query. Whatever Redis holds, only posts of
accounts the viewer follows (or the viewer's own) that still exist and that the viewer may
see are shown. Explore's candidates are recent popular posts and posts liked lately by the
accounts the viewer follows, both read from MongoDB. Neither shows reels; the reels
stream's candidates are the newest READY reels of the followed accounts and of everyone
(resolvers/reel.py), of which the visibility policy keeps what the viewer may see.

A ranked list (the RANKED feed, Explore, reels) pages through a window of the ranker's order kept
in Redis. When ranking is unavailable (Redis or the ranker fails) the same list is served
newest first instead, and its cursors keep paging across the switch: a ranked cursor also
carries the oldest post ranked up to it, where the newest-first list goes on (no post of
the earlier pages comes again), and a cursor handed out by a newest-first page goes on
newest first, even once ranking is back, until the client reloads the list.
"""

from __future__ import annotations

import itertools
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from redis.exceptions import RedisError

from resolvers import fanout
from resolvers.context import Context
from resolvers.errors import BadUserInput, CursorExpired
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    decode_signed_cursor,
    encode_signed_cursor,
    fill_page,
    page_size,
)
from resolvers.post import prefetch_cards, visible_posts
from resolvers.ranking import RankedPosts, log_impressions, rank_window
from resolvers.reel import REELS_PAGE_SIZE, reel_candidates, shown_in_stream
from resolvers.viewer import require_viewer
from storage.feed import FEED_MAX_ITEMS
from storage.follow import FollowState
from storage.id_lists import IdList
from storage.ids import id_for_time
from storage.large_accounts import LARGE_ACCOUNTS_TTL_SECONDS
from storage.post import PostRecord
from storage.ranked_window import Surface, WindowScoring
from storage.user import UserRecord

logger = logging.getLogger(__name__)

RANK_WINDOW = 200  # the newest candidates ranked at once: one ranker call per window
FOLLOWING_LIMIT = 7_500  # as Instagram's cap on followed accounts: bounds a rebuild's query
EXPLORE_RECENT = timedelta(days=7)  # how old a popular post may be to be explored
EXPLORE_CANDIDATES = 200
EXPLORE_FOLLOWEES_SAMPLED = 100  # whose likes feed Explore's social candidates
EXPLORE_PAGE_SIZE = 24  # the contract's default: a grid of 3 x 8

# fetch(before_id, limit): the next post ids of a list, newest first, older than before_id.
NewestFirst = Callable[[int | None, int], Awaitable[list[int]]]


class FeedOrder(StrEnum):
    RANKED = "RANKED"
    CHRONOLOGICAL = "CHRONOLOGICAL"


@dataclass(frozen=True, slots=True)
class RankedCursor:
    snapshot: int  # the ranked window
    position: int  # the window's next position to read
    older_than: int  # the oldest post ranked before `position`: where newest first goes on


@dataclass(frozen=True, slots=True)
class NewestFirstCursor:
    before_id: int


async def feed(
    context: Context, first: int | None, after: str | None, order: FeedOrder
) -> Page[PostRecord]:
    viewer = require_viewer(context)
    size = page_size(first, DEFAULT_PAGE_SIZE)
    if order is FeedOrder.CHRONOLOGICAL:
        before_id = (
            None if after is None else _newest_first_cursor(context, viewer, Surface.FEED, after)
        )
        return await _newest_first_page(context, viewer, Surface.FEED, size, before_id)
    return await _ranked_list(context, viewer, Surface.FEED, size, after)


async def explore(context: Context, first: int | None, after: str | None) -> Page[PostRecord]:
    viewer = require_viewer(context)
    return await _ranked_list(
        context, viewer, Surface.EXPLORE, page_size(first, EXPLORE_PAGE_SIZE), after
    )


async def reels(context: Context, first: int | None, after: str | None) -> Page[PostRecord]:
    """READY reels of others that the viewer may see, ranked for the reels surface."""
    viewer = require_viewer(context)
    return await _ranked_list(
        context, viewer, Surface.REELS, page_size(first, REELS_PAGE_SIZE), after
    )


async def _ranked_list(
    context: Context, viewer: UserRecord, surface: Surface, size: int, after: str | None
) -> Page[PostRecord]:
    """A page of the ranked list, or of the same list newest first when ranking is
    unavailable or the client's cursor came from a newest-first page."""
    cursor = None if after is None else _ranked_list_cursor(context, viewer, surface, after)
    if isinstance(cursor, NewestFirstCursor):
        return await _newest_first_page(context, viewer, surface, size, cursor.before_id)
    window = await _ranked_window(context, viewer, surface, cursor)
    if window is None:
        before_id = None if cursor is None else cursor.older_than
        return await _newest_first_page(context, viewer, surface, size, before_id)
    snapshot, ranked, scoring = window.snapshot, window.post_ids, window.scoring
    offset = 0 if cursor is None else cursor.position
    # The oldest post ranked up to each position: a cursor's way on when ranking fails.
    oldest_so_far = list(itertools.accumulate(ranked, min))

    # The window is read by position: a post gone or hidden since it was ranked is skipped.
    async def fetch(after_position: int | None, limit: int) -> list[int]:
        start = offset if after_position is None else after_position + 1
        return list(range(start, min(start + limit, len(ranked))))

    async def keep(positions: list[int]) -> list[tuple[int, PostRecord]]:
        ids = [ranked[position] for position in positions]
        shown = {post.id: post for post in await _showable(context, viewer, ids, surface)}
        return [
            (position, shown[ranked[position]])
            for position in positions
            if ranked[position] in shown
        ]

    chosen, has_next_page = await fill_page(fetch, keep, lambda position: position, size, None)
    scope = _scope(viewer, surface, FeedOrder.RANKED)
    edges = [
        (
            encode_signed_cursor(
                context.services.cursor_secret,
                scope,
                [snapshot, position + 1, oldest_so_far[position]],
            ),
            post,
        )
        for position, post in chosen
    ]
    await prefetch_cards(context, [post for _, post in chosen])
    log_impressions(context, viewer, surface, chosen, scoring)
    return Page(edges=edges, has_next_page=has_next_page)


@dataclass(frozen=True, slots=True)
class PagedWindow:
    snapshot: int
    post_ids: list[int]  # best first
    scoring: WindowScoring | None  # what they were scored with; None for an older window


async def _ranked_window(
    context: Context, viewer: UserRecord, surface: Surface, cursor: RankedCursor | None
) -> PagedWindow | None:
    """The window a page reads (and what it was scored with, for its impressions), ranked
    now for a first page; None when ranking is unavailable. CURSOR_EXPIRED when the
    cursor's window is gone."""
    windows = context.services.stores.ranked_windows
    try:
        if cursor is None:
            ranked = await _rank(context, viewer, surface)
            if ranked is None:
                return None
            snapshot = await windows.save(viewer.id, surface, ranked.post_ids, ranked.scoring)
            return PagedWindow(snapshot, ranked.post_ids, ranked.scoring)
        window = await windows.scored_window(viewer.id, surface, cursor.snapshot)
    except RedisError as error:
        # Ranked windows live in Redis: without it, the same list newest first.
        logger.warning("%s served newest first, Redis failed: %s", surface, error)
        return None
    if window is None:
        raise CursorExpired("This list has changed since that cursor; load it from the top.")
    return PagedWindow(cursor.snapshot, window.post_ids, window.scoring)


async def _rank(context: Context, viewer: UserRecord, surface: Surface) -> RankedPosts | None:
    """The candidates of a window, best first; None when the ranker failed."""
    posts = await _showable(
        context, viewer, await _window_candidates(context, viewer, surface), surface
    )
    try:
        return await rank_window(context, viewer, surface, posts)
    except Exception as error:
        # Ranking only orders the list: whatever the ranker raises (a model served by
        # another process would raise errors of its own), the list is served newest first.
        logger.warning("%s served newest first, the ranker failed: %r", surface, error)
        return None


async def _window_candidates(context: Context, viewer: UserRecord, surface: Surface) -> list[int]:
    if surface is Surface.FEED:
        return await _feed_ids(context, viewer, None, RANK_WINDOW)
    if surface is Surface.REELS:
        return await _reel_ids(context, viewer)
    return await _explore_ids(context, viewer)


async def _newest_first_page(
    context: Context, viewer: UserRecord, surface: Surface, size: int, before_id: int | None
) -> Page[PostRecord]:
    secret, scope = context.services.cursor_secret, _scope(viewer, surface, FeedOrder.CHRONOLOGICAL)
    fetch = await _newest_first(context, viewer, surface)

    async def keep(ids: list[int]) -> list[PostRecord]:
        return await _showable(context, viewer, ids, surface)

    shown, has_next_page = await fill_page(fetch, keep, lambda post_id: post_id, size, before_id)
    edges = [(encode_signed_cursor(secret, scope, [post.id]), post) for post in shown]
    await prefetch_cards(context, shown)
    # A newest-first page knows no absolute position: its impressions count from its top.
    # It was not scored, so they carry no features (training learns from ranked ones).
    log_impressions(context, viewer, surface, list(enumerate(shown)))
    return Page(edges=edges, has_next_page=has_next_page)


async def _newest_first(context: Context, viewer: UserRecord, surface: Surface) -> NewestFirst:
    """How to read the surface's candidates newest first, from Redis or MongoDB."""
    if surface is Surface.FEED:

        async def from_feed(before_id: int | None, limit: int) -> list[int]:
            return await _feed_ids(context, viewer, before_id, limit)

        return from_feed
    ids = await (_reel_ids if surface is Surface.REELS else _explore_ids)(context, viewer)
    candidates = sorted(ids, reverse=True)

    async def from_candidates(before_id: int | None, limit: int) -> list[int]:
        older = [post_id for post_id in candidates if before_id is None or post_id < before_id]
        return older[:limit]

    return from_candidates


def _scope(viewer: UserRecord, surface: Surface, order: FeedOrder) -> str:
    """What a cursor is signed for: its list, in its order, for its viewer."""
    return f"{surface.value}:{order.value.lower()}:{viewer.id}"


def _newest_first_cursor(context: Context, viewer: UserRecord, surface: Surface, after: str) -> int:
    scope = _scope(viewer, surface, FeedOrder.CHRONOLOGICAL)
    return decode_signed_cursor(context.services.cursor_secret, scope, after, 1)[0]


def _ranked_list_cursor(
    context: Context, viewer: UserRecord, surface: Surface, after: str
) -> RankedCursor | NewestFirstCursor:
    """A cursor of a ranked list: into its ranked window, or handed out while the list was
    served newest first. BAD_USER_INPUT when it is neither (forged, or another list's)."""
    scope = _scope(viewer, surface, FeedOrder.RANKED)
    try:
        snapshot, position, older_than = decode_signed_cursor(
            context.services.cursor_secret, scope, after, 3
        )
    except BadUserInput:
        return NewestFirstCursor(_newest_first_cursor(context, viewer, surface, after))
    return RankedCursor(snapshot, position, older_than)


async def _feed_ids(
    context: Context, viewer: UserRecord, before_id: int | None, limit: int
) -> list[int]:
    """Candidate post ids, newest first: the precomputed feed and the large accounts."""
    stores = context.services.stores
    try:
        ids = await stores.feeds.page(viewer.id, before_id=before_id, limit=limit)
    except RedisError as error:
        logger.warning("feed read from MongoDB, Redis failed: %s", error)
        return await _ids_from_mongodb(context, viewer, before_id, limit)
    if ids is None:
        return await _rebuild(context, viewer, before_id, limit)
    large = await _followed_large_accounts(context, viewer)
    if large:
        merged = await stores.posts.ids_by_authors(large, before_id=before_id, limit=limit)
        ids = sorted(set(ids) | set(merged), reverse=True)[:limit]
    return ids


async def _rebuild(
    context: Context, viewer: UserRecord, before_id: int | None, limit: int
) -> list[int]:
    """Rebuild a missing feed (one reader at a time), serving this read from MongoDB."""
    stores = context.services.stores
    if not await stores.feeds.try_lock_rebuild(viewer.id):
        return await _ids_from_mongodb(context, viewer, before_id, limit)
    try:
        newest = await _ids_from_mongodb(context, viewer, None, FEED_MAX_ITEMS)
        await stores.feeds.rebuild(viewer.id, newest)
    finally:
        await stores.feeds.unlock_rebuild(viewer.id)
    return [post_id for post_id in newest if before_id is None or post_id < before_id][:limit]


async def _ids_from_mongodb(
    context: Context, viewer: UserRecord, before_id: int | None, limit: int
) -> list[int]:
    stores = context.services.stores
    authors = await stores.follows.followee_ids(viewer.id, limit=FOLLOWING_LIMIT)
    return await stores.posts.ids_by_authors(
        [viewer.id, *authors], before_id=before_id, limit=limit
    )


async def _followed_large_accounts(context: Context, viewer: UserRecord) -> list[int]:
    """The large accounts the viewer follows, cached per viewer with a checksum of the list
    it was taken from: a changed list, or a follow of the viewer's, recomputes it. Without
    it, every read would look up the viewer's follow of every large account."""
    services = context.services
    large = await fanout.large_account_ids(services)
    checksum = zlib.crc32(",".join(map(str, large)).encode())
    cached = await services.stores.id_lists.get(IdList.FOLLOWED_LARGE, viewer.id)
    if cached and cached[0] == checksum:
        return cached[1:]
    states = await context.loaders.follow_state_by_user_id.load_many(large)
    followed = zip(large, states, strict=True)
    ids = [account for account, state in followed if state is FollowState.FOLLOWING]
    await services.stores.id_lists.put(
        IdList.FOLLOWED_LARGE, viewer.id, [checksum, *ids], ttl_seconds=LARGE_ACCOUNTS_TTL_SECONDS
    )
    return ids


async def _explore_ids(context: Context, viewer: UserRecord) -> list[int]:
    """Recent popular posts, and posts liked lately by accounts the viewer follows."""
    stores = context.services.stores
    since_id = id_for_time(context.services.clock() - EXPLORE_RECENT)
    popular = await stores.posts.most_liked_since(since_id, limit=EXPLORE_CANDIDATES)
    for post in popular:
        context.loaders.post_by_id.prime(post.id, post)
    followees = await stores.follows.followee_ids(viewer.id, limit=EXPLORE_FOLLOWEES_SAMPLED)
    liked_by_followees = await stores.likes.recent_post_ids_liked_by(
        followees, limit=EXPLORE_CANDIDATES
    )
    return list(dict.fromkeys([post.id for post in popular] + liked_by_followees))


async def _reel_ids(context: Context, viewer: UserRecord) -> list[int]:
    stores = context.services.stores
    followees = await stores.follows.followee_ids(viewer.id, limit=FOLLOWING_LIMIT)
    return await reel_candidates(context, followees)


async def _showable(
    context: Context, viewer: UserRecord, ids: list[int], surface: Surface
) -> list[PostRecord]:
    """The posts of `ids` that still exist and that this list may show the viewer, in order.

    The feed shows the viewer's own posts and those of accounts the viewer follows; Explore
    shows accounts the viewer does not follow, never the viewer's own, and no post the
    viewer already liked; neither shows reels, whose stream shows READY reels of others. All
    hide blocked and private accounts by the visibility policy,
    as everywhere; and since a private account's posts are visible only to its followers,
    whom Explore leaves out, Explore shows public accounts only without a check of its own.
    """
    loaded = await context.loaders.post_by_id.load_many(ids)
    posts = await visible_posts(context, [post for post in loaded if post is not None])
    if surface is Surface.REELS:
        return shown_in_stream(viewer, posts)
    posts = [post for post in posts if not post.is_reel]  # reels have a stream of their own
    authors = [post.author_id for post in posts]
    states = await context.loaders.follow_state_by_user_id.load_many(authors)
    follows = {
        author
        for author, state in zip(authors, states, strict=True)
        if state is FollowState.FOLLOWING
    }
    if surface is Surface.FEED:
        return [post for post in posts if post.author_id == viewer.id or post.author_id in follows]
    liked = await context.loaders.liked_by_post_id.load_many([post.id for post in posts])
    return [
        post
        for post, has_liked in zip(posts, liked, strict=True)
        if post.author_id != viewer.id and post.author_id not in follows and not has_liked
    ]
