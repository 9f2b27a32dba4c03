"""Ranking a surface's window for its viewer, and logging what the surface showed.

The inputs of a whole window are gathered in a constant number of round trips, whatever its
size: the posts and their authors come through the request's loaders (batched; the
visibility check has loaded them already), and the viewer's affinity counters for every
author and hashtag of the window are one Redis pipeline. Then one model call scores the
window (ranking/ranker.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from ranking.features import CandidateSignals, ViewerSignals, feature_matrix
from resolvers.context import Context
from storage.affinity import AffinityKind
from storage.follow import FollowState
from storage.interaction import Interaction, InteractionKind
from storage.post import PostRecord
from storage.ranked_window import Surface
from storage.user import UserRecord

VIDEO = "VIDEO"


async def rank_posts(
    context: Context, viewer: UserRecord, surface: Surface, posts: Sequence[PostRecord]
) -> list[int]:
    """The posts' ids, best first for the viewer on the surface."""
    if not posts:
        return []
    now = context.services.clock()
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
    features = feature_matrix(ViewerSignals(activity=affinity.activity), candidates)
    return await context.services.ranker.rank(surface.value, [post.id for post in posts], features)


def log_impressions(
    context: Context,
    viewer: UserRecord,
    surface: Surface,
    shown: Sequence[tuple[int, PostRecord]],
) -> None:
    """Record the (position, post) pairs a page showed: buffered, no round trip."""
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
            )
            for position, post in shown
        )
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
