"""The `User` type, its payload and the profile input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import follow as follow_resolvers
from resolvers import post as post_resolvers
from resolvers.ids import to_global_id
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.eager import eager
from schema.types.common import Connection, Info, Node, UserError, to_connection
from schema.types.follow import FollowState
from storage.user import UserRecord

if TYPE_CHECKING:
    from schema.types.post import Post

# Lazy: posts refer back to their authors, and neither module imports the other.
PostType = Annotated["Post", strawberry.lazy("schema.types.post")]


@strawberry.type(name="User")
class User(Node):
    record: strawberry.Private[UserRecord]
    username: str
    display_name: str = strawberry.field(description="The name shown on the profile; may be empty.")
    bio: str
    is_private: bool
    follower_count: int
    following_count: int
    post_count: int

    @strawberry.field
    def avatar_url(self, info: Info) -> str | None:
        key = self.record.avatar_key
        return None if key is None else f"{info.context.services.media_base_url}/{key}"

    @strawberry.field(description="The account's email: only the account itself sees it.")
    def email(self, info: Info) -> str | None:
        viewer = info.context.viewer
        return self.record.email if viewer is not None and viewer.id == self.record.id else None

    @strawberry.field(description="How the viewer follows this account (NONE when anonymous).")
    @eager
    async def viewer_follow_state(self, info: Info) -> FollowState:
        return await info.context.loaders.follow_state_by_user_id.load(self.record.id)

    @strawberry.field(description="Whether this account follows the viewer.")
    @eager
    async def follows_viewer(self, info: Info) -> bool:
        return await info.context.loaders.follows_viewer_by_user_id.load(self.record.id)

    @strawberry.field(
        description="Approved followers, newest first; empty when private to the viewer."
    )
    async def followers(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[User]:
        page = await follow_resolvers.followers(info.context, self.record, first, after)
        return to_connection(page, User.wrap)

    @strawberry.field(description="Accounts this one follows, newest first; empty when private.")
    async def following(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[User]:
        page = await follow_resolvers.following(info.context, self.record, first, after)
        return to_connection(page, User.wrap)

    @strawberry.field(description="Posts, newest first; empty when private to the viewer.")
    async def posts(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[PostType]:
        from schema.types.post import Post

        page = await post_resolvers.posts_by_author(info.context, self.record, first, after)
        return to_connection(page, Post.wrap)

    @classmethod
    def wrap(cls, record: UserRecord) -> User:
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("User", record.id)),
            username=record.username,
            display_name=record.display_name,
            bio=record.bio,
            is_private=record.is_private,
            follower_count=record.follower_count,
            following_count=record.following_count,
            post_count=record.post_count,
        )

    @classmethod
    def wrap_optional(cls, record: UserRecord | None) -> User | None:
        return None if record is None else cls.wrap(record)


async def author(info: Info, author_id: int) -> User:
    """The author of a post or comment. Never hidden: the loaders hide a post or comment
    whose author is, so the field can be non-null; should one be, the field fails rather
    than show them."""
    record = await info.context.loaders.user_by_id.load(author_id)
    if record is None:
        raise RuntimeError(f"author {author_id} of a shown post or comment is hidden or absent")
    return User.wrap(record)


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]


@strawberry.input
class UpdateProfileInput:
    display_name: str | None = None
    bio: str | None = None
    is_private: bool | None = None
    avatar_upload_id: strawberry.ID | None = None
