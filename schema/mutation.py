"""The root `Mutation` type: thin fields that hand over to resolvers and wrap their results."""

from __future__ import annotations

import strawberry

from resolvers import account, block, follow
from schema.types.common import Info, UserError
from schema.types.user import (
    AuthPayload,
    FollowPayload,
    LogInInput,
    LogOutPayload,
    OkPayload,
    SignUpInput,
    UpdateProfileInput,
    User,
    UserPayload,
)


def _auth_payload(result: account.AuthResult) -> AuthPayload:
    return AuthPayload(
        token=result.token,
        user=User.wrap_optional(result.user),
        errors=UserError.from_errors(result.errors),
    )


def _ok_payload(result: block.OkResult) -> OkPayload:
    return OkPayload(ok=result.ok, errors=UserError.from_errors(result.errors))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an account and sign in to it.")
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
        return _auth_payload(
            await account.sign_up(info.context, input.username, input.email, input.password)
        )

    @strawberry.mutation(description="Sign in with a username or email and a password.")
    async def log_in(self, info: Info, input: LogInInput) -> AuthPayload:
        return _auth_payload(await account.log_in(info.context, input.login, input.password))

    @strawberry.mutation(description="Revoke the token this request was made with.")
    async def log_out(self, info: Info) -> LogOutPayload:
        return LogOutPayload(ok=await account.log_out(info.context))

    @strawberry.mutation(
        description="Change the viewer's profile; omitted fields stay as they are."
    )
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UserPayload:
        result = await account.update_profile(
            info.context,
            display_name=input.display_name,
            bio=input.bio,
            is_private=input.is_private,
            avatar_upload_id=input.avatar_upload_id,
        )
        return UserPayload(
            user=User.wrap_optional(result.user), errors=UserError.from_errors(result.errors)
        )

    @strawberry.mutation(description="Follow an account, or ask to when it is private.")
    async def follow_user(self, info: Info, user_id: strawberry.ID) -> FollowPayload:
        return FollowPayload.from_result(await follow.follow_user(info.context, user_id))

    @strawberry.mutation(description="Stop following an account, or withdraw a request.")
    async def unfollow_user(self, info: Info, user_id: strawberry.ID) -> FollowPayload:
        return FollowPayload.from_result(await follow.unfollow_user(info.context, user_id))

    @strawberry.mutation(description="Approve or decline a request to follow the viewer.")
    async def respond_to_follow_request(
        self, info: Info, user_id: strawberry.ID, approve: bool
    ) -> FollowPayload:
        return FollowPayload.from_result(
            await follow.respond_to_follow_request(info.context, user_id, approve)
        )

    @strawberry.mutation(description="Block an account: both stop seeing each other.")
    async def block_user(self, info: Info, user_id: strawberry.ID) -> OkPayload:
        return _ok_payload(await block.block_user(info.context, user_id))

    @strawberry.mutation(description="Lift a block; follows it ended stay ended.")
    async def unblock_user(self, info: Info, user_id: strawberry.ID) -> OkPayload:
        return _ok_payload(await block.unblock_user(info.context, user_id))
