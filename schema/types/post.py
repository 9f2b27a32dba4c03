"""Posts, their media, comments, hashtags and uploads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import comment as comment_resolvers
from resolvers import post as post_resolvers
from resolvers.comment import CommentResult
from resolvers.ids import to_global_id
from resolvers.media import media_url
from resolvers.pagination import DEFAULT_PAGE_SIZE
from resolvers.post import PostResult
from resolvers.upload import CreatedUpload
from schema.eager import eager
from schema.types.common import Connection, Info, Node, UserError, to_connection
from storage.comment import CommentRecord
from storage.post import MediaRecord, PostRecord

if TYPE_CHECKING:
    from schema.types.user import User

UserType = Annotated["User", strawberry.lazy("schema.types.user")]


async def _author(info: Info, author_id: int) -> User:
    from schema.types.user import User

    author = await info.context.loaders.user_by_id.load(author_id)
    assert author is not None, "accounts are never deleted"
    return User.wrap(author)


@strawberry.enum
class MediaType(StrEnum):
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"


@strawberry.type
class Media:
    record: strawberry.Private[MediaRecord]
    id: strawberry.ID
    type: MediaType
    width: int = strawberry.field(description="Width of the largest rendition, in pixels.")
    height: int = strawberry.field(description="Height of the largest rendition, in pixels.")

    @strawberry.field(
        description="The CDN URL of the smallest rendition at least `width` pixels wide "
        "(the largest when omitted). Immutable: cache it forever."
    )
    def url(self, info: Info, width: int | None = None) -> str:
        renditions = self.record.renditions  # widest first
        chosen = renditions[0]
        if width is not None:
            wide_enough = [r for r in renditions if r.width >= width]
            chosen = wide_enough[-1] if wide_enough else renditions[0]
        return media_url(info.context, chosen.key)

    @classmethod
    def wrap(cls, record: MediaRecord) -> Media:
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("Media", record.id)),
            type=MediaType(record.type),
            width=record.width,
            height=record.height,
        )


@strawberry.type(name="Comment")
class Comment(Node):
    record: strawberry.Private[CommentRecord]
    text: str
    created_at: datetime
    reply_count: int

    @strawberry.field
    @eager
    async def author(self, info: Info) -> UserType:
        return await _author(info, self.record.author_id)

    @strawberry.field(description="The comment this one replies to, if it is a reply.")
    async def reply_to(self, info: Info) -> Comment | None:
        if self.record.reply_to_id is None:
            return None
        parent = await info.context.loaders.comment_by_id.load(self.record.reply_to_id)
        return None if parent is None else Comment.wrap(parent)

    @strawberry.field
    async def post(self, info: Info) -> Post | None:
        post = await post_resolvers.visible_post(info.context, self.record.post_id)
        return None if post is None else Post.wrap(post)

    @strawberry.field(description="Replies, oldest first.")
    async def replies(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Comment]:
        page = await comment_resolvers.replies(info.context, self.record, first, after)
        return to_connection(page, Comment.wrap)

    @classmethod
    def wrap(cls, record: CommentRecord) -> Comment:
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("Comment", record.id)),
            text=record.text,
            created_at=record.created_at,
            reply_count=record.reply_count,
        )


@strawberry.type(name="Post")
class Post(Node):
    record: strawberry.Private[PostRecord]
    caption: str
    created_at: datetime
    media: list[Media]
    like_count: int
    comment_count: int = strawberry.field(description="Comments and replies.")
    hashtags: list[str] = strawberry.field(
        description="Hashtags in the caption, lowercased, without '#'."
    )

    @strawberry.field
    @eager
    async def author(self, info: Info) -> UserType:
        return await _author(info, self.record.author_id)

    @strawberry.field
    @eager
    async def viewer_has_liked(self, info: Info) -> bool:
        return await info.context.loaders.liked_by_post_id.load(self.record.id)

    @strawberry.field(description="Top-level comments, oldest first.")
    @eager
    async def comments(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Comment]:
        page = await comment_resolvers.comments(info.context, self.record, first, after)
        return to_connection(page, Comment.wrap)

    @strawberry.field(description="Accounts mentioned in the caption.")
    async def mentions(self, info: Info) -> list[UserType]:
        from schema.types.user import User

        users = await post_resolvers.post_mentions(info.context, self.record)
        return [User.wrap(user) for user in users]

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
class Hashtag:
    name: str
    post_count: int

    @strawberry.field(description="Posts with this hashtag, newest first.")
    async def posts(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Post]:
        page = await post_resolvers.posts_by_hashtag(info.context, self.name, first, after)
        return to_connection(page, Post.wrap)


@strawberry.type
class UploadField:
    name: str
    value: str


@strawberry.type(
    description="Where to send a file: POST multipart/form-data to `url` with "
    "every field of `fields`, then the file as the field named `file`."
)
class Upload:
    created: strawberry.Private[CreatedUpload]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("Upload", self.created.record.id))

    @strawberry.field
    def url(self) -> str:
        return self.created.form.url

    @strawberry.field
    def fields(self) -> list[UploadField]:
        return [
            UploadField(name=name, value=value) for name, value in self.created.form.fields.items()
        ]

    @strawberry.field(description="Use the upload before this time.")
    def expires_at(self) -> datetime:
        return self.created.record.expires_at


@strawberry.type
class CreateUploadPayload:
    upload: Upload | None
    errors: list[UserError]


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


@strawberry.type
class CommentPayload:
    comment: Comment | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: CommentResult) -> CommentPayload:
        return cls(
            comment=None if result.comment is None else Comment.wrap(result.comment),
            errors=UserError.from_errors(result.errors),
        )


@strawberry.input
class CreateUploadInput:
    content_type: str = strawberry.field(description="image/jpeg, image/png, image/webp, video/mp4")
    byte_size: int


@strawberry.input
class CreatePostInput:
    upload_ids: list[strawberry.ID]
    caption: str | None = None
    client_mutation_id: str | None = strawberry.field(
        default=None, description="A retried call with the same value returns the first post."
    )


@strawberry.input
class AddCommentInput:
    post_id: strawberry.ID
    text: str
    reply_to_id: strawberry.ID | None = None
