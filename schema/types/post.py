"""Posts: the type, its payload and its input."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import comment as comment_resolvers
from resolvers import post as post_resolvers
from resolvers.ids import to_global_id
from resolvers.pagination import DEFAULT_PAGE_SIZE
from resolvers.post import PostResult
from schema.eager import eager
from schema.types.common import Connection, Info, Node, UserError, to_connection
from schema.types.media import Media
from storage.post import PostRecord

if TYPE_CHECKING:
    from schema.types.comment import Comment
    from schema.types.user import User

# Lazy: comments and users refer back to posts, and neither module imports this one.
CommentType = Annotated["Comment", strawberry.lazy("schema.types.comment")]
UserType = Annotated["User", strawberry.lazy("schema.types.user")]


@strawberry.type
class PostEngagement:
    """The fields a post and a reel share (a reel is a post with a video: resolvers/reel.py):
    who made it, the viewer's like, its comments and its mentions."""

    record: strawberry.Private[PostRecord]

    @strawberry.field
    @eager
    async def author(self, info: Info) -> UserType:
        from schema.types.user import author

        return await author(info, self.record.author_id)

    @strawberry.field
    @eager
    async def viewer_has_liked(self, info: Info) -> bool:
        return await info.context.loaders.liked_by_post_id.load(self.record.id)

    @strawberry.field(description="Top-level comments, oldest first.")
    @eager
    async def comments(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[CommentType]:
        from schema.types.comment import Comment

        page = await comment_resolvers.comments(info.context, self.record, first, after)
        return to_connection(page, Comment.wrap)

    @strawberry.field(description="Accounts mentioned in the caption.")
    async def mentions(self, info: Info) -> list[UserType]:
        from schema.types.user import User

        users = await post_resolvers.post_mentions(info.context, self.record)
        return [User.wrap(user) for user in users]


@strawberry.type(name="Post")
class Post(Node, PostEngagement):
    record: strawberry.Private[PostRecord]
    caption: str
    created_at: datetime
    media: list[Media]
    like_count: int
    comment_count: int = strawberry.field(description="Comments and replies.")
    hashtags: list[str] = strawberry.field(
        description="Hashtags in the caption, lowercased, without '#'."
    )

    @classmethod
    def wrap(cls, record: PostRecord) -> Post:
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("Post", record.id)),
            caption=record.caption,
            created_at=record.created_at,
            media=[Media.wrap(media) for media in record.media],
            like_count=record.like_count,
            comment_count=record.comment_count,
            hashtags=list(record.hashtags),
        )


@strawberry.type
class PostPayload:
    post: Post | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: PostResult) -> PostPayload:
        return cls(
            post=None if result.post is None else Post.wrap(result.post),
            errors=UserError.from_errors(result.errors),
        )


@strawberry.input
class CreatePostInput:
    upload_ids: list[strawberry.ID]
    caption: str | None = None
    client_mutation_id: str | None = strawberry.field(
        default=None, description="A retried call with the same value returns the first post."
    )
