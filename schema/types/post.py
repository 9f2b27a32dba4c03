"""Posts, their media, comments, hashtags and uploads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from resolvers import comment as comment_resolvers
from resolvers import post as post_resolvers
from resolvers.comment import CommentResult
from resolvers.ids import to_global_id
from resolvers.media import media_url
from resolvers.pagination import DEFAULT_PAGE_SIZE
from resolvers.post import PostResult
from resolvers.upload import CreatedUpload
from schema.types.common import Info, UserError, to_connection
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

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("Media", self.record.id))

    @strawberry.field
    def type(self) -> MediaType:
        return MediaType(self.record.type)

    @strawberry.field(description="Width of the largest rendition, in pixels.")
    def width(self) -> int:
        return self.record.width

    @strawberry.field(description="Height of the largest rendition, in pixels.")
    def height(self) -> int:
        return self.record.height

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


@strawberry.type(name="Comment")
class Comment(relay.Node):
    record: strawberry.Private[CommentRecord]

    @classmethod
    def resolve_id(cls, root: Comment, *, info: Info) -> str:
        return str(root.record.id)

    @strawberry.field
    def text(self) -> str:
        return self.record.text

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    async def author(self, info: Info) -> UserType:
        return await _author(info, self.record.author_id)

    @strawberry.field(description="The comment this one replies to, if it is a reply.")
    async def reply_to(self, info: Info) -> Comment | None:
        if self.record.reply_to_id is None:
            return None
        parent = await info.context.loaders.comment_by_id.load(self.record.reply_to_id)
        return None if parent is None else Comment(record=parent)

    @strawberry.field
    def reply_count(self) -> int:
        return self.record.reply_count

    @strawberry.field
    async def post(self, info: Info) -> Post | None:
        post = await post_resolvers.visible_post(info.context, self.record.post_id)
        return None if post is None else Post(record=post)

    @strawberry.field(description="Replies, oldest first.")
    async def replies(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> relay.Connection[Comment]:
        page = await comment_resolvers.replies(info.context, self.record, first, after)
        return to_connection(page, Comment.wrap)

    @classmethod
    def wrap(cls, record: CommentRecord) -> Comment:
        return cls(record=record)


@strawberry.type(name="Post")
class Post(relay.Node):
    record: strawberry.Private[PostRecord]

    @classmethod
    def resolve_id(cls, root: Post, *, info: Info) -> str:
        return str(root.record.id)

    @strawberry.field
    def caption(self) -> str:
        return self.record.caption

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    async def author(self, info: Info) -> UserType:
        return await _author(info, self.record.author_id)

    @strawberry.field
    def media(self) -> list[Media]:
        return [Media(record=media) for media in self.record.media]

    @strawberry.field
    def like_count(self) -> int:
        return self.record.like_count

    @strawberry.field(description="Comments and replies.")
    def comment_count(self) -> int:
        return self.record.comment_count

    @strawberry.field
    async def viewer_has_liked(self, info: Info) -> bool:
        return await info.context.loaders.liked_by_post_id.load(self.record.id)

    @strawberry.field(description="Top-level comments, oldest first.")
    async def comments(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> relay.Connection[Comment]:
        page = await comment_resolvers.comments(info.context, self.record, first, after)
        return to_connection(page, Comment.wrap)

    @strawberry.field(description="Hashtags in the caption, lowercased, without '#'.")
    def hashtags(self) -> list[str]:
        return list(self.record.hashtags)

    @strawberry.field(description="Accounts mentioned in the caption.")
    async def mentions(self, info: Info) -> list[UserType]:
        from schema.types.user import User

        users = await post_resolvers.post_mentions(info.context, self.record)
        return [User.wrap(user) for user in users]

    @classmethod
    def wrap(cls, record: PostRecord) -> Post:
        return cls(record=record)


@strawberry.type
class Hashtag:
    name: str
    post_count: int

    @strawberry.field(description="Posts with this hashtag, newest first.")
    async def posts(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> relay.Connection[Post]:
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
            post=None if result.post is None else Post(record=result.post),
            errors=UserError.from_errors(result.errors),
        )


@strawberry.type
class CommentPayload:
    comment: Comment | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: CommentResult) -> CommentPayload:
        return cls(
            comment=None if result.comment is None else Comment(record=result.comment),
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
