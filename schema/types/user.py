"""The `User` type and the account and social-graph payloads."""

from __future__ import annotations

import strawberry
from strawberry import relay

from resolvers import follow as follow_resolvers
from resolvers import post as post_resolvers
from resolvers.follow import FollowResult
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.types.common import Info, UserError, to_connection
from schema.types.post import Post
from storage.follow import FollowState
from storage.user import UserRecord

# Registered for GraphQL; annotations use the storage enum itself.
strawberry.enum(FollowState, name="FollowState")


@strawberry.type(name="User")
class User(relay.Node):
    record: strawberry.Private[UserRecord]

    @classmethod
    def resolve_id(cls, root: User, *, info: Info) -> str:
        return str(root.record.id)

    @strawberry.field
    def username(self) -> str:
        return self.record.username

    @strawberry.field(description="The name shown on the profile; may be empty.")
    def display_name(self) -> str:
        return self.record.display_name

    @strawberry.field
    def bio(self) -> str:
        return self.record.bio

    @strawberry.field
    def is_private(self) -> bool:
        return self.record.is_private

    @strawberry.field
    def avatar_url(self, info: Info) -> str | None:
        key = self.record.avatar_key
        return None if key is None else f"{info.context.services.media_base_url}/{key}"

    @strawberry.field(description="The account's email: only the account itself sees it.")
    def email(self, info: Info) -> str | None:
        viewer = info.context.viewer
        return self.record.email if viewer is not None and viewer.id == self.record.id else None

    @strawberry.field
    def follower_count(self) -> int:
        return self.record.follower_count

    @strawberry.field
    def following_count(self) -> int:
        return self.record.following_count

    @strawberry.field
    def post_count(self) -> int:
        return self.record.post_count

    @strawberry.field(description="How the viewer follows this account (NONE when anonymous).")
    async def viewer_follow_state(self, info: Info) -> FollowState:
        return await info.context.loaders.follow_state_by_user_id.load(self.record.id)

    @strawberry.field(description="Whether this account follows the viewer.")
    async def follows_viewer(self, info: Info) -> bool:
        return await info.context.loaders.follows_viewer_by_user_id.load(self.record.id)

    @strawberry.field(
        description="Approved followers, newest first; empty when private to the viewer."
    )
    async def followers(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> relay.Connection[User]:
        page = await follow_resolvers.followers(info.context, self.record, first, after)
        return to_connection(page, User.wrap)

    @strawberry.field(description="Accounts this one follows, newest first; empty when private.")
    async def following(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> relay.Connection[User]:
        page = await follow_resolvers.following(info.context, self.record, first, after)
        return to_connection(page, User.wrap)

    @strawberry.field(description="Posts, newest first; empty when private to the viewer.")
    async def posts(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> relay.Connection[Post]:
        page = await post_resolvers.posts_by_author(info.context, self.record, first, after)
        return to_connection(page, Post.wrap)

    @classmethod
    def wrap(cls, record: UserRecord) -> User:
        return cls(record=record)

    @classmethod
    def wrap_optional(cls, record: UserRecord | None) -> User | None:
        return None if record is None else cls(record=record)


@strawberry.type
class AuthPayload:
    token: str | None = strawberry.field(
        description='The bearer token: send it as "Authorization: Bearer <token>".'
    )
    user: User | None
    errors: list[UserError]


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]


@strawberry.type
class FollowPayload:
    state: FollowState | None
    user: User | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: FollowResult) -> FollowPayload:
        return cls(
            state=result.state,
            user=User.wrap_optional(result.user),
            errors=UserError.from_errors(result.errors),
        )


@strawberry.type
class LogOutPayload:
    ok: bool


@strawberry.input
class SignUpInput:
    username: str
    email: str
    password: str


@strawberry.input
class LogInInput:
    login: str = strawberry.field(description="The username or the email address.")
    password: str


@strawberry.input
class UpdateProfileInput:
    display_name: str | None = None
    bio: str | None = None
    is_private: bool | None = None
    avatar_upload_id: strawberry.ID | None = None
