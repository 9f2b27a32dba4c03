"""Comments and replies (one level, as Instagram: a reply to a reply joins its thread)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from resolvers import notification
from resolvers.context import Context
from resolvers.errors import DeleteResult, ErrorCode, FieldError
from resolvers.ids import typed_id_argument
from resolvers.like import reload_post
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    decode_cursor,
    page_size,
    visible_keyset_page,
)
from resolvers.post import resolve_post_argument, visible_post
from resolvers.ranking import log_interaction
from resolvers.viewer import require_viewer
from storage.comment import CommentRecord
from storage.interaction import InteractionKind
from storage.mongo import whole_milliseconds
from storage.notification import NotificationCause
from storage.post import PREVIEW_COMMENTS, CommentRef, PostRecord
from subscriptions.events import CommentAdded

MAX_COMMENT_LENGTH = 2_200  # as Instagram


@dataclass(frozen=True, slots=True)
class CommentResult:
    comment: CommentRecord | None = None
    errors: list[FieldError] = field(default_factory=list)


async def add_comment(
    context: Context, raw_post_id: str, text: str, raw_reply_to_id: str | None
) -> CommentResult:
    viewer = require_viewer(context)
    text = text.strip()
    if not 0 < len(text) <= MAX_COMMENT_LENGTH:
        return CommentResult(
            errors=[
                FieldError(
                    ErrorCode.INVALID, "text", f"Write 1 to {MAX_COMMENT_LENGTH:,} characters."
                )
            ]
        )
    post = await resolve_post_argument(context, raw_post_id, "postId")
    if isinstance(post, FieldError):
        return CommentResult(errors=[post])
    reply_to_id = None
    if raw_reply_to_id is not None:
        parent = await _reply_target(context, post, raw_reply_to_id)
        if isinstance(parent, FieldError):
            return CommentResult(errors=[parent])
        reply_to_id = parent.reply_to_id or parent.id
    services = context.services
    comment = CommentRecord(
        id=services.ids.next_id(),
        post_id=post.id,
        author_id=viewer.id,
        text=text,
        reply_to_id=reply_to_id,
        reply_count=0,
        created_at=whole_milliseconds(services.clock()),
    )
    stores = services.stores
    await stores.comments.insert(comment)
    await stores.posts.increment_counts(post.id, comment=1)
    if reply_to_id is None:
        await stores.posts.add_preview_comment(post.id, CommentRef(comment.id, viewer.id))
    else:
        await stores.comments.increment_reply_count(reply_to_id, 1)
    log_interaction(context, InteractionKind.COMMENT, viewer, post.author_id, post)
    await notification.enqueue(services, NotificationCause.COMMENT, comment.id, viewer.id)
    await services.bus.publish(CommentAdded(post_id=post.id, comment_id=comment.id))
    return CommentResult(comment=comment)


async def _reply_target(
    context: Context, post: PostRecord, raw_reply_to_id: str
) -> CommentRecord | FieldError:
    comment_id = typed_id_argument(raw_reply_to_id, "Comment", "replyToId")
    if isinstance(comment_id, FieldError):
        return comment_id
    parent = await context.loaders.comment_by_id.load(comment_id)
    if parent is None or parent.post_id != post.id:
        return FieldError(ErrorCode.NOT_FOUND, "replyToId", "No such comment on this post.")
    return parent


async def delete_comment(context: Context, raw_comment_id: str) -> DeleteResult:
    """The comment's author or the post's author may delete it; its replies go with it."""
    viewer = require_viewer(context)
    comment_id = typed_id_argument(raw_comment_id, "Comment", "commentId")
    if isinstance(comment_id, FieldError):
        return DeleteResult(errors=[comment_id])
    not_found = DeleteResult(
        errors=[FieldError(ErrorCode.NOT_FOUND, "commentId", "No such comment.")]
    )
    # Unfiltered: the post's author may delete a comment on it by an account they blocked.
    comment = await context.loaders.unfiltered.comment_by_id.load(comment_id)
    post = None if comment is None else await visible_post(context, comment.post_id)
    if comment is None or post is None:
        return not_found
    if viewer.id not in (comment.author_id, post.author_id):
        if await context.loaders.comment_by_id.load(comment.id) is None:
            return not_found  # to anyone else, a hidden comment does not exist
        return DeleteResult(
            errors=[
                FieldError(
                    ErrorCode.FORBIDDEN,
                    "commentId",
                    "Only the comment's author or the post's author may delete it.",
                )
            ]
        )
    stores = context.services.stores
    deleted = await stores.comments.delete(comment.id)
    if deleted is None:  # deleted meanwhile by another call, which did the counting
        return DeleteResult(deleted_id=comment.id)
    if deleted.reply_to_id is not None:
        await stores.comments.increment_reply_count(deleted.reply_to_id, -1)
        await stores.posts.increment_counts(post.id, comment=-1)
    else:
        replies = await stores.comments.delete_replies(deleted.id)
        await stores.posts.increment_counts(post.id, comment=-(1 + replies))
        if deleted.id in {ref.id for ref in post.preview_comments}:
            oldest = await stores.comments.page(
                post.id, None, after_id=None, limit=PREVIEW_COMMENTS
            )
            await stores.posts.set_preview_comments(
                post.id, [CommentRef(c.id, c.author_id) for c in oldest]
            )
    await reload_post(context, post.id)
    return DeleteResult(deleted_id=comment.id)


async def comments(
    context: Context, post: PostRecord, first: int | None, after: str | None
) -> Page[CommentRecord]:
    """Top-level comments, oldest first. Their start is read from the post's preview (the
    oldest PREVIEW_COMMENTS), so a feed of posts costs no comment query per post."""

    async def fetch(after_id: int | None, limit: int) -> list[CommentRecord]:
        if after_id is None and limit <= PREVIEW_COMMENTS:
            refs = post.preview_comments[:limit]
            # Unfiltered, as the query below: `_visible_page` filters both alike.
            loaded = await context.loaders.unfiltered.comment_by_id.load_many(
                [ref.id for ref in refs]
            )
            rows = [comment for comment in loaded if comment is not None]
            if len(rows) == len(refs):  # else a comment was deleted as the preview was read
                return rows
        return await context.services.stores.comments.page(
            post.id, None, after_id=after_id, limit=limit
        )

    return await _visible_page(context, fetch, first, after)


async def replies(
    context: Context, comment: CommentRecord, first: int | None, after: str | None
) -> Page[CommentRecord]:
    async def fetch(after_id: int | None, limit: int) -> list[CommentRecord]:
        return await context.services.stores.comments.page(
            comment.post_id, comment.id, after_id=after_id, limit=limit
        )

    return await _visible_page(context, fetch, first, after)


async def visible_comment(context: Context, comment_id: int) -> CommentRecord | None:
    """The comment, if it exists and the viewer may see it."""
    return await context.loaders.comment_by_id.load(comment_id)


async def _visible_page(
    context: Context,
    fetch: Callable[[int | None, int], Awaitable[list[CommentRecord]]],
    first: int | None,
    after: str | None,
) -> Page[CommentRecord]:
    """Comments the viewer may not see (by accounts blocked either way) are left out."""

    async def keep(rows: list[CommentRecord]) -> list[CommentRecord]:
        return await context.loaders.comment_by_id.filter(rows)

    size = page_size(first, DEFAULT_PAGE_SIZE)
    return await visible_keyset_page(
        fetch, keep, lambda comment: comment.id, size, decode_cursor(after)
    )
