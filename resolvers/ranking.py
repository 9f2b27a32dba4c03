"""Ranking a surface's window for its viewer, and logging what the surface showed.

The inputs of a whole window are gathered in a constant number of round trips, whatever its
size: the posts and their authors come through the request's loaders (batched; the
visibility check has loaded them already), and the viewer's affinity counters for every
author and hashtag of the window are one Redis pipeline. Then one model call scores the
window (ranking/ranker.py).

Feature logging: the features a window was scored with are kept with it (beside the ranked
window in Redis, for its later pages) and logged with the impressions of the posts a page
shows, with the model's version, so training reads exactly what the model was served.
They are in memory when the window is ranked and come back with the window for later
pages: no round trip of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ranking.features import (
    FEATURE_SCHEMA_ID,
    CandidateSignals,
    ViewerSignals,
    feature_bytes,
    feature_matrix,
)
from ranking.model import Features
from resolvers.context import Context
from storage.affinity import AffinityKind
from storage.follow import FollowState
from storage.interaction import ImpressionScoring, Interaction, InteractionKind
from storage.post import PostRecord
from storage.ranked_window import Surface, WindowScoring
from storage.user import UserRecord

VIDEO = "VIDEO"


@dataclass(frozen=True, slots=True)
class RankedPosts:
    post_ids: list[int]  # best first
    scoring: WindowScoring  # row i: what post_ids[i] was scored with


async def rank_posts(
    context: Context, viewer: UserRecord, surface: Surface, posts: Sequence[PostRecord]
) -> list[int]:
    """The posts' ids, best first for the viewer on the surface."""
    return (await rank_window(context, viewer, surface, posts)).post_ids


async def rank_window(
    context: Context, viewer: UserRecord, surface: Surface, posts: Sequence[PostRecord]
) -> RankedPosts:
    """The posts best first for the viewer on the surface, and what each was scored with."""
    ranker = context.services.ranker
    features = await window_features(context, viewer, posts, context.services.clock())
    post_ids = [post.id for post in posts]
    order = await ranker.order(surface.value, post_ids, features)
    scoring = WindowScoring(
        window_id=context.services.ids.next_id(),
        model_version=ranker.model_version,
        feature_schema=FEATURE_SCHEMA_ID,
        feature_count=features.shape[1],
        features=feature_bytes(features[order]) if order else b"",
    )
    return RankedPosts([post_ids[row] for row in order], scoring)


async def window_features(
    context: Context, viewer: UserRecord, posts: Sequence[PostRecord], now: datetime
) -> Features:
    """The window's feature matrix, one row per post in the posts' order, as at `now`."""
    if not posts:
        return feature_matrix(ViewerSignals(activity=0.0), [])
    author_ids = list(dict.fromkeys(post.author_id for post in posts))
    authors = await context.loaders.user_by_id.load_many(author_ids)
    states = await context.loaders.follow_state_by_user_id.load_many(author_ids)
    by_id = dict(zip(author_ids, authors, strict=True))
    followed = {
        author
        for author, state in zip(author_ids, states, strict=True)
        if state is FollowState.FOLLOWING
    }
    affinity = await context.services.stores.affinity.window(
        viewer.id, author_ids, {tag for post in posts for tag in post.hashtags}, now
    )
    candidates = []
    for post in posts:
        author = by_id[post.author_id]
        candidates.append(
            CandidateSignals(
                age_hours=(now - post.created_at).total_seconds() / 3600,
                like_count=post.like_count,
                comment_count=post.comment_count,
                is_video=any(media.type == VIDEO for media in post.media),
                media_count=len(post.media),
                author_follower_count=0 if author is None else author.follower_count,
                author_post_count=0 if author is None else author.post_count,
                author_engagements=affinity.author_engagements.get(post.author_id, 0.0),
                viewer_follows_author=post.author_id in followed,
                is_own_post=post.author_id == viewer.id,
                likes_of_author=affinity.author(AffinityKind.LIKE, post.author_id),
                comments_on_author=affinity.author(AffinityKind.COMMENT, post.author_id),
                profile_opens_of_author=affinity.author(AffinityKind.PROFILE_OPEN, post.author_id),
                messages_with_author=affinity.author(AffinityKind.MESSAGE, post.author_id),
                hashtag_engagements=affinity.hashtags(post.hashtags),
            )
        )
    return feature_matrix(ViewerSignals(activity=affinity.activity), candidates)


def log_impressions(
    context: Context,
    viewer: UserRecord,
    surface: Surface,
    shown: Sequence[tuple[int, PostRecord]],
    scoring: WindowScoring | None = None,
) -> None:
    """Record the (position, post) pairs a page showed: buffered, no round trip. With the
    window's scoring (a ranked page), each carries the features its post was scored with;
    a newest-first page was not scored, and its impressions carry none."""
    now = context.services.clock()
    context.services.interactions.record(
        *(
            Interaction(
                kind=InteractionKind.IMPRESSION,
                viewer_id=viewer.id,
                author_id=post.author_id,
                at=now,
                post_id=post.id,
                surface=surface.value,
                position=position,
                hashtags=post.hashtags,
                scoring=None if scoring is None else _impression_scoring(scoring, position),
            )
            for position, post in shown
        )
    )


def _impression_scoring(scoring: WindowScoring, position: int) -> ImpressionScoring | None:
    row = scoring.row(position)
    if not row:
        return None  # a window saved without its rows: nothing honest to log
    return ImpressionScoring(
        features=row,
        feature_schema=scoring.feature_schema,
        model_version=scoring.model_version,
        window_id=scoring.window_id,
    )


def log_interaction(
    context: Context,
    kind: InteractionKind,
    viewer: UserRecord,
    author_id: int,
    post: PostRecord | None = None,
) -> None:
    """Record one interaction of the viewer's (a like, a comment, a profile open, a
    message): buffered, no round trip."""
    context.services.interactions.record(
        Interaction(
            kind=kind,
            viewer_id=viewer.id,
            author_id=author_id,
            at=context.services.clock(),
            post_id=None if post is None else post.id,
            hashtags=() if post is None else post.hashtags,
        )
    )
