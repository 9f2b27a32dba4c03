"""Notifications: the `Notification` type and its kinds."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import comment as comment_resolvers
from resolvers import message as message_resolvers
from resolvers import notification as notification_resolvers
from resolvers import post as post_resolvers
from resolvers.ids import to_global_id
from schema.types.common import Info, Node
from storage.notification import NotificationKind, NotificationRecord

if TYPE_CHECKING:
    from schema.types.comment import Comment
    from schema.types.message import Message
    from schema.types.post import Post
    from schema.types.user import User

# Lazy, as the other types refer to one another: none of them imports this module.
CommentType = Annotated["Comment", strawberry.lazy("schema.types.comment")]
MessageType = Annotated["Message", strawberry.lazy("schema.types.message")]
PostType = Annotated["Post", strawberry.lazy("schema.types.post")]
UserType = Annotated["User", strawberry.lazy("schema.types.user")]

# Registered under its GraphQL name; annotations use the storage enum itself.
strawberry.enum(
    NotificationKind,
    name="NotificationKind",
    description="What a notification tells of. LIKE groups every like of one post.",
)


@strawberry.type(
    name="Notification",
    description="Something others did that concerns the viewer. Likes of one post are one "
    "notification, with the latest likers and their count.",
)
class Notification(Node):
    record: strawberry.Private[NotificationRecord]
    kind: NotificationKind
    created_at: datetime = strawberry.field(description="When its latest event happened.")

    @strawberry.field(
        description="Whether the viewer has read it: it is older than their last "
        "`markNotificationsRead`. A group that gains an event since is unread again."
    )
    async def read(self, info: Info) -> bool:
        return await notification_resolvers.is_read(info.context, self.record)

    @strawberry.field(
        description="How many accounts did it: every liker of a LIKE group, 1 for the others."
    )
    async def actor_count(self, info: Info) -> int:
        return await notification_resolvers.actor_count(info.context, self.record)

    @strawberry.field(description="Who did it, latest first: at most 3 (see `actorCount`).")
    async def actors(self, info: Info) -> list[UserType]:
        from schema.types.user import User

        users = await notification_resolvers.actors(info.context, self.record)
        return [User.wrap(user) for user in users]

    @strawberry.field(description="The post it is about (LIKE, COMMENT, MENTION), if any.")
    async def post(self, info: Info) -> PostType | None:
        from schema.types.post import Post

        if self.record.post_id is None:
            return None
        post = await post_resolvers.visible_post(info.context, self.record.post_id)
        return None if post is None else Post.wrap(post)

    @strawberry.field(description="The comment it is about (COMMENT, a comment's MENTION).")
    async def comment(self, info: Info) -> CommentType | None:
        from schema.types.comment import Comment

        if self.record.comment_id is None:
            return None
        comment = await comment_resolvers.visible_comment(info.context, self.record.comment_id)
        return None if comment is None else Comment.wrap(comment)

    @strawberry.field(description="The message it is about (MESSAGE).")
    async def message(self, info: Info) -> MessageType | None:
        from schema.types.message import Message

        if self.record.message_id is None:
            return None
        message = await message_resolvers.visible_message(info.context, self.record.message_id)
        return Message.wrap_optional(message)

    @classmethod
    def wrap(cls, record: NotificationRecord) -> Notification:
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("Notification", record.id)),
            kind=record.kind,
            created_at=record.created_at,
        )

    @classmethod
    def wrap_optional(cls, record: NotificationRecord | None) -> Notification | None:
        return None if record is None else cls.wrap(record)
