"""The home feed and Explore.

The home feed's candidates come from the viewer's precomputed feed in Redis plus, at read
time, the recent posts of the large accounts the viewer follows. A feed that does not exist
(its owner was away, or Redis lost it) is rebuilt from MongoDB by the read that finds it
missing, which serves its page from the same query. Whatever Redis holds, only posts of
accounts the viewer follows (or the viewer's own) that still exist and that the viewer may
see are shown.
"""

from __future__ import annotations

import logging
import zlib
from datetime import timedelta
from enum import StrEnum

from redis.exceptions import RedisError

from ranking.features import Candidate
from ranking.ranker import rank
from resolvers import fanout
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    decode_signed_cursor,
    encode_signed_cursor,
    fill_page,
    page_size,
)
from resolvers.post import prefetch_cards, visible_posts
from resolvers.viewer import require_viewer
from storage.feed import FEED_MAX_ITEMS
from storage.follow import FollowState
from storage.ids import id_for_time, id_to_datetime
from storage.post import PostRecord
from storage.user import UserRecord

logger = logging.getLogger(__name__)

RANK_WINDOW = 200  # the newest candidates ranked at once: one ranker call per window
FOLLOWING_LIMIT = 7_500  # as Instagram's cap on followed accounts: bounds a rebuild's query
EXPLORE_RECENT = timedelta(days=7)  # how old a popular post may be to be explored
EXPLORE_CANDIDATES = 200
EXPLORE_FOLLOWEES_SAMPLED = 100  # whose likes feed Explore's social candidates


class FeedOrder(StrEnum):
    RANKED = "RANKED"
    CHRONOLOGICAL = "CHRONOLOGICAL"


async def feed(
    context: Context, first: int | None, after: str | None, order: FeedOrder
) -> Page[PostRecord]:
    viewer = require_viewer(context)
    size = page_size(first, DEFAULT_PAGE_SIZE)
    if order is FeedOrder.CHRONOLOGICAL:
        return await _chronological(context, viewer, size, after)
    try:
        return await _ranked_page(context, viewer, "feed", size, after)
    except RedisError as error:
        # Ranked windows live in Redis: without it, the newest posts, from MongoDB.
        logger.warning("ranked feed unavailable, serving it chronologically: %s", error)
        return await _chronological(context, viewer, size, None)


async def explore(context: Context, first: int | None, after: str | None) -> Page[PostRecord]:
    viewer = require_viewer(context)
    return await _ranked_page(
        context, viewer, "explore", page_size(first, DEFAULT_PAGE_SIZE), after
    )


async def _chronological(
    context: Context, viewer: UserRecord, size: int, after: str | None
) -> Page[PostRecord]:
    secret, scope = context.services.cursor_secret, f"chronological:{viewer.id}"
    before_id = None if after is None else decode_signed_cursor(secret, scope, after, 1)[0]

    async def fetch(older_than: int | None, limit: int) -> list[int]:
        return await _feed_ids(context, viewer, older_than, limit)

    async def keep(ids: list[int]) -> list[PostRecord]:
        return await _showable(context, viewer, ids)

    shown, has_next_page = await fill_page(fetch, keep, lambda post_id: post_id, size, before_id)
    edges = [(encode_signed_cursor(secret, scope, [post.id]), post) for post in shown]
    await prefetch_cards(context, shown)
    return Page(edges=edges, has_next_page=has_next_page)


async def _ranked_page(
    context: Context, viewer: UserRecord, kind: str, size: int, after: str | None
) -> Page[PostRecord]:
    services = context.services
    secret, scope = services.cursor_secret, f"{kind}:{viewer.id}"
    if after is None:
        ranked = await _rank_window(context, viewer, kind)
        snapshot = await services.stores.feeds.save_ranking(viewer.id, kind, ranked)
        offset = 0
    else:
        snapshot, offset = decode_signed_cursor(secret, scope, after, 2)
        window = await services.stores.feeds.ranking(viewer.id, kind, snapshot)
        if window is None:
            raise BadUserInput("This list has changed since that cursor; load it again.")
        ranked = window

    # The window is read by position: a post gone or hidden since it was ranked is skipped.
    async def fetch(after_position: int | None, limit: int) -> list[int]:
        start = offset if after_position is None else after_position + 1
        return list(range(start, min(start + limit, len(ranked))))

    async def keep(positions: list[int]) -> list[tuple[int, PostRecord]]:
        ids = [ranked[position] for position in positions]
        shown = {post.id: post for post in await _showable(context, viewer, ids, kind=kind)}
        return [
            (position, shown[ranked[position]])
            for position in positions
            if ranked[position] in shown
        ]

    chosen, has_next_page = await fill_page(fetch, keep, lambda position: position, size, None)
    edges = [
        (encode_signed_cursor(secret, scope, [snapshot, position + 1]), post)
        for position, post in chosen
    ]
    await prefetch_cards(context, [post for _, post in chosen])
    return Page(edges=edges, has_next_page=has_next_page)


async def _rank_window(context: Context, viewer: UserRecord, kind: str) -> list[int]:
    ids = (
        await _feed_ids(context, viewer, None, RANK_WINDOW)
        if kind == "feed"
        else await _explore_ids(context, viewer)
    )
    posts = await _showable(context, viewer, ids, kind=kind)
    now = context.services.clock()
    candidates = [
        Candidate(
            post_id=post.id,
            age_hours=(now - id_to_datetime(post.id)).total_seconds() / 3600,
            like_count=post.like_count,
            comment_count=post.comment_count,
            media_count=len(post.media),
            viewer_follows_author=kind == "feed",
        )
        for post in posts
    ]
    return await rank(context.services.ranker, candidates)


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
    key = fanout.followed_large_key(viewer.id)
    cached = await services.stores.feeds.cached_ids(key)
    if cached and cached[0] == checksum:
        return cached[1:]
    states = await context.loaders.follow_state_by_user_id.load_many(large)
    followed = zip(large, states, strict=True)
    ids = [account for account, state in followed if state is FollowState.FOLLOWING]
    await services.stores.feeds.cache_ids(
        key, [checksum, *ids], ttl_seconds=fanout.LARGE_ACCOUNTS_TTL_SECONDS
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


async def _showable(
    context: Context, viewer: UserRecord, ids: list[int], *, kind: str = "feed"
) -> list[PostRecord]:
    """The posts of `ids` that still exist and that this list may show the viewer, in order.

    The feed shows the viewer's own posts and those of accounts the viewer follows; Explore
    shows public accounts the viewer does not follow, never the viewer's own, and no post
    the viewer already liked. Both hide blocked and private accounts as everywhere.
    """
    loaded = await context.loaders.post_by_id.load_many(ids)
    posts = await visible_posts(context, [post for post in loaded if post is not None])
    authors = [post.author_id for post in posts]
    states = await context.loaders.follow_state_by_user_id.load_many(authors)
    follows = {
        author
        for author, state in zip(authors, states, strict=True)
        if state is FollowState.FOLLOWING
    }
    if kind == "feed":
        return [post for post in posts if post.author_id == viewer.id or post.author_id in follows]
    liked = await context.loaders.liked_by_post_id.load_many([post.id for post in posts])
    users = await context.loaders.user_by_id.load_many(authors)
    private = {user.id for user in users if user is not None and user.is_private}
    return [
        post
        for post, has_liked in zip(posts, liked, strict=True)
        if post.author_id != viewer.id
        and post.author_id not in follows
        and post.author_id not in private
        and not has_liked
    ]
