"""Comments and replies on a post."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import comment as comment_resolvers
from resolvers import post as post_resolvers
from resolvers.comment import CommentResult
from resolvers.ids import to_global_id
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.eager import eager
from schema.types.common import Connection, Info, Node, UserError, to_connection
from storage.comment import CommentRecord

if TYPE_CHECKING:
    from schema.types.post import Post
    from schema.types.user import User

# Lazy: the post and user types refer back to comments, and neither module imports the other.
PostType = Annotated["Post", strawberry.lazy("schema.types.post")]
UserType = Annotated["User", strawberry.lazy("schema.types.user")]


@strawberry.type(name="Comment")
class Comment(Node):
    record: strawberry.Private[CommentRecord]
    text: str
    created_at: datetime
    reply_count: int

    @strawberry.field
    @eager
    async def author(self, info: Info) -> UserType:
        from schema.types.user import author

        return await author(info, self.record.author_id)

    @strawberry.field(
        description="The comment this one replies to, if it is a reply; null when hidden."
    )
    async def reply_to(self, info: Info) -> Comment | None:
        if self.record.reply_to_id is None:
            return None
        parent = await comment_resolvers.visible_comment(info.context, self.record.reply_to_id)
        return None if parent is None else Comment.wrap(parent)

    @strawberry.field
    async def post(self, info: Info) -> PostType | None:
        from schema.types.post import Post

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
class AddCommentInput:
    post_id: strawberry.ID
    text: str
    reply_to_id: strawberry.ID | None = None
