"""Likes: idempotent both ways, with the post's counter moved only by real changes."""

from __future__ import annotations

from resolvers import notification
from resolvers.context import Context
from resolvers.errors import FieldError
from resolvers.post import PostResult, resolve_post_argument
from resolvers.ranking import log_interaction
from resolvers.viewer import require_viewer
from storage.interaction import InteractionKind
from storage.notification import NotificationCause
from storage.post import PostRecord
from subscriptions.events import PostLiked


async def like_post(context: Context, raw_post_id: str) -> PostResult:
    """Liking twice leaves one like."""
    return await _set_like(context, raw_post_id, liked=True)


async def unlike_post(context: Context, raw_post_id: str) -> PostResult:
    """Unliking what is not liked is not an error."""
    return await _set_like(context, raw_post_id, liked=False)


async def _set_like(context: Context, raw_post_id: str, *, liked: bool) -> PostResult:
    """The counter moves only when the like itself changed, so retries never count twice."""
    viewer = require_viewer(context)
    post = await resolve_post_argument(context, raw_post_id, "postId")
    if isinstance(post, FieldError):
        return PostResult(errors=[post])
    stores = context.services.stores
    if liked:
        changed = await stores.likes.insert(context.services.ids.next_id(), viewer.id, post.id)
    else:
        changed = await stores.likes.delete(viewer.id, post.id)
    if not changed:
        return PostResult(post=await reload_post(context, post.id))
    counted = await stores.posts.increment_counts(post.id, like=1 if liked else -1)
    if liked:
        log_interaction(context, InteractionKind.LIKE, viewer, post.author_id, post)
        await context.services.bus.publish(PostLiked(post_id=post.id, actor_id=viewer.id))
    await notification.enqueue(context.services, NotificationCause.LIKES, post.id, viewer.id)
    # This write's own results, not the cache's: read-after-write for the liker.
    context.loaders.liked_by_post_id.clear(post.id).prime(post.id, liked)
    return PostResult(post=remember_post(context, post.id, counted))


def remember_post(context: Context, post_id: int, post: PostRecord | None) -> PostRecord | None:
    """`post` as this request's own write left it, which its loaders answer from now on:
    the actor reads their write even if its cache invalidation was lost."""
    context.loaders.post_by_id.clear(post_id).prime(post_id, post)
    return post


async def reload_post(context: Context, post_id: int) -> PostRecord | None:
    """The post as stored now, after this request changed it (None if deleted meanwhile)."""
    context.loaders.post_by_id.clear(post_id)
    context.loaders.liked_by_post_id.clear(post_id)
    return await context.loaders.post_by_id.load(post_id)
