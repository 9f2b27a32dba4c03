"""Posts: creating them from uploads, deleting them, and reading them where the viewer may."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from media.image import render_post_image
from resolvers import fanout, notification
from resolvers.context import Context
from resolvers.errors import DeleteResult, ErrorCode, FieldError
from resolvers.ids import node_argument, parse_global_id, retry_key_error
from resolvers.media import MediaWriter, rendered_uploads, rendition_keys
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    decode_cursor,
    page_size,
    visible_keyset_page,
)
from resolvers.upload import usable_uploads
from resolvers.viewer import require_viewer
from storage.fanout_queue import FanoutOp
from storage.mention import parse_mentions
from storage.mongo import whole_milliseconds
from storage.notification import NotificationCause
from storage.post import ClientMutationIdReused, PostRecord
from storage.user import UserRecord

MAX_MEDIA_PER_POST = 10  # Instagram's carousel limit
MAX_CAPTION_LENGTH = 2_200  # as Instagram
MAX_HASHTAGS = 30  # as Instagram: more is spam
HASHTAG_PATTERN = re.compile(r"#(\w{1,100})")


@dataclass(frozen=True, slots=True)
class PostResult:
    post: PostRecord | None = None
    errors: list[FieldError] = field(default_factory=list)


def parse_hashtags(caption: str) -> tuple[str, ...]:
    tags = dict.fromkeys(tag.lower() for tag in HASHTAG_PATTERN.findall(caption))
    return tuple(tags)[:MAX_HASHTAGS]


async def visible_posts(context: Context, posts: list[PostRecord]) -> list[PostRecord]:
    """`posts` (as a store query returned them) less those the viewer may not see, in order."""
    return await context.loaders.post_by_id.filter(posts)


async def visible_post(context: Context, post_id: int) -> PostRecord | None:
    """The post, if it exists and the viewer may see it."""
    return await context.loaders.post_by_id.load(post_id)


async def prefetch_cards(context: Context, posts: list[PostRecord]) -> None:
    """Start, in one batch per loader, every read a page of post cards makes: the posts'
    visibility, the authors and the authors of the preview comments (with the viewer's
    blocks), the preview comments and the viewer's likes. The fields then find them
    memoised."""
    post_ids = [post.id for post in posts]
    user_ids = list(
        {post.author_id for post in posts}
        | {ref.author_id for post in posts for ref in post.preview_comments}
    )
    comment_ids = [ref.id for post in posts for ref in post.preview_comments]
    loaders = context.loaders
    for post in posts:
        loaders.post_by_id.prime(post.id, post)
    await asyncio.gather(
        loaders.post_by_id.load_many(post_ids),
        loaders.user_by_id.load_many(user_ids),
        loaders.blocked_by_user_id.load_many(user_ids),
        loaders.liked_by_post_id.load_many(post_ids),
        loaders.comment_by_id.load_many(comment_ids),
    )


async def resolve_post_argument(
    context: Context, raw_id: str, field_name: str
) -> PostRecord | FieldError:
    """The post a mutation argument names, if the viewer may see it: a Post's id, or a
    Reel's (a reel is a post with a video, liked and commented on as posts are)."""
    parsed = parse_global_id(raw_id)
    if parsed is not None and parsed[0] == "Reel":
        return await node_argument(context, raw_id, "Reel", field_name, visible_reel)
    return await node_argument(context, raw_id, "Post", field_name, visible_post)


async def visible_reel(context: Context, reel_id: int) -> PostRecord | None:
    """The reel, if it exists and the viewer may see it (READY, or the viewer's own)."""
    post = await context.loaders.post_by_id.load(reel_id)
    return post if post is not None and post.is_reel else None


def _input_errors(
    upload_ids: list[str], caption: str, client_mutation_id: str | None
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not 1 <= len(upload_ids) <= MAX_MEDIA_PER_POST:
        errors.append(
            FieldError(
                ErrorCode.INVALID, "uploadIds", f"A post has 1 to {MAX_MEDIA_PER_POST} photos."
            )
        )
    return errors + caption_errors(caption, client_mutation_id)


def caption_errors(caption: str, client_mutation_id: str | None) -> list[FieldError]:
    """What is wrong with the caption and the retry key a post or a reel is created with."""
    errors: list[FieldError] = []
    if len(caption) > MAX_CAPTION_LENGTH:
        errors.append(
            FieldError(
                ErrorCode.INVALID, "caption", f"Use at most {MAX_CAPTION_LENGTH:,} characters."
            )
        )
    if client_mutation_id is not None and (
        problem := retry_key_error(client_mutation_id, "clientMutationId")
    ):
        errors.append(problem)
    return errors


async def create_post(
    context: Context, upload_ids: list[str], caption: str | None, client_mutation_id: str | None
) -> PostResult:
    viewer = require_viewer(context)
    caption = (caption or "").strip()
    if errors := _input_errors(upload_ids, caption, client_mutation_id):
        return PostResult(errors=errors)
    stores = context.services.stores
    if client_mutation_id is not None:
        earlier = await stores.posts.find_by_client_mutation_id(viewer.id, client_mutation_id)
        if earlier is not None:
            return PostResult(post=earlier)
    uploads = await usable_uploads(context, upload_ids, "uploadIds")
    if isinstance(uploads, FieldError):
        return PostResult(errors=[uploads])
    rendered = await rendered_uploads(context, uploads, render_post_image, "uploadIds")
    if isinstance(rendered, FieldError):
        return PostResult(errors=[rendered])
    mention_ids = tuple(await mentioned_user_ids(context, parse_mentions(caption)))
    post_id = context.services.ids.next_id()
    claim_key = f"post:{post_id}"
    upload_record_ids = [record.id for record in uploads]
    if not await stores.uploads.claim(upload_record_ids, viewer.id, claim_key):
        return PostResult(
            errors=[FieldError(ErrorCode.INVALID, "uploadIds", "An upload was used meanwhile.")]
        )
    # From here on, whatever fails gives the uploads back and removes what was stored.
    writer = MediaWriter(context)
    try:
        post = PostRecord(
            id=post_id,
            author_id=viewer.id,
            caption=caption,
            hashtags=parse_hashtags(caption),
            mention_ids=mention_ids,
            media=tuple(await writer.store(rendered)),
            like_count=0,
            comment_count=0,
            preview_comments=(),
            created_at=whole_milliseconds(context.services.clock()),
        )
        await stores.posts.insert(post, client_mutation_id=client_mutation_id)
    except ClientMutationIdReused:
        # A retry of this very call won the race: hand back what it created, whose
        # renditions (of the same photos) may be the very objects this call created.
        await stores.uploads.release(upload_record_ids, claim_key)
        assert client_mutation_id is not None
        earlier = await stores.posts.find_by_client_mutation_id(viewer.id, client_mutation_id)
        await writer.take_back(keep=rendition_keys(earlier.media if earlier else ()))
        return PostResult(post=earlier)
    except BaseException:
        await stores.uploads.release(upload_record_ids, claim_key)
        await writer.take_back()
        raise
    await writer.confirm()
    await stores.users.increment_counts(viewer.id, post=1)
    await stores.hashtags.increment(post.hashtags, +1)
    await fanout.enqueue(context.services, FanoutOp.PUSH, post.id, viewer.id)
    if post.mention_ids:
        await notification.enqueue(context.services, NotificationCause.POST, post.id, viewer.id)
    return PostResult(post=post)


async def delete_post(context: Context, raw_post_id: str) -> DeleteResult:
    viewer = require_viewer(context)
    post = await resolve_post_argument(context, raw_post_id, "postId")
    if isinstance(post, FieldError):
        return DeleteResult(errors=[post])
    if post.author_id != viewer.id:
        return DeleteResult(
            errors=[FieldError(ErrorCode.FORBIDDEN, "postId", "Only its author may delete a post.")]
        )
    stores = context.services.stores
    deleted = await stores.posts.delete(post.id)
    if deleted is not None:  # only the call whose delete happened adjusts the counters
        if not deleted.is_reel:  # reels are not counted among posts nor on hashtags
            await stores.users.increment_counts(viewer.id, post=-1)
            await stores.hashtags.increment(deleted.hashtags, -1)
        await asyncio.gather(
            stores.likes.delete_for_post(post.id), stores.comments.delete_for_post(post.id)
        )
        await fanout.enqueue(context.services, FanoutOp.UNPUSH, post.id, viewer.id)
    return DeleteResult(deleted_id=post.id)


async def posts_by_author(
    context: Context, author: UserRecord, first: int | None, after: str | None
) -> Page[PostRecord]:
    """Newest first; none when the author's content is hidden from the viewer."""
    size, before_id = page_size(first, DEFAULT_PAGE_SIZE), decode_cursor(after)
    if not await context.loaders.visibility.content_visible(author):
        return Page(edges=[], has_next_page=False)
    posts = context.services.stores.posts

    async def fetch(older_than: int | None, limit: int) -> list[PostRecord]:
        return await posts.page_by_author(author.id, before_id=older_than, limit=limit)

    return await visible_keyset_page(
        fetch, _shown_cards(context), lambda post: post.id, size, before_id
    )


async def posts_by_hashtag(
    context: Context, name: str, first: int | None, after: str | None
) -> Page[PostRecord]:
    """Newest first; posts the viewer may not see are left out of the page."""
    size, before_id = page_size(first, DEFAULT_PAGE_SIZE), decode_cursor(after)
    posts = context.services.stores.posts
    tag = name.lower().lstrip("#")

    async def fetch(older_than: int | None, limit: int) -> list[PostRecord]:
        return await posts.page_by_hashtag(tag, before_id=older_than, limit=limit)

    return await visible_keyset_page(
        fetch, _shown_cards(context), lambda post: post.id, size, before_id
    )


def _shown_cards(context: Context) -> Callable[[list[PostRecord]], Awaitable[list[PostRecord]]]:
    """What a page of post cards keeps of the rows a store query returned."""

    async def keep(rows: list[PostRecord]) -> list[PostRecord]:
        # The cards' reads first: visibility is among them, so the page costs one batch
        # per loader.
        await prefetch_cards(context, rows)
        return await visible_posts(context, rows)

    return keep


async def hashtag_post_count(context: Context, name: str) -> int | None:
    return await context.services.stores.hashtags.post_count(name.lower().lstrip("#"))


async def post_mentions(context: Context, post: PostRecord) -> list[UserRecord]:
    users = await context.loaders.user_by_id.load_many(list(post.mention_ids))
    return [user for user in users if user is not None]


async def mentioned_user_ids(context: Context, usernames: tuple[str, ...]) -> list[int]:
    ids = await context.services.stores.users.find_ids_by_usernames(usernames)
    users = await context.loaders.user_by_id.load_many(ids)
    return [user.id for user in users if user is not None]
