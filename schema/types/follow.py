"""Following: the follow state enum and the payload of the follow mutations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.follow import FollowResult
from schema.types.common import UserError
from storage.follow import FollowState

if TYPE_CHECKING:
    from schema.types.user import User

UserType = Annotated["User", strawberry.lazy("schema.types.user")]

# Registered for GraphQL; annotations use the storage enum itself, re-exported from here so
# that every type using it imports the registration.
strawberry.enum(FollowState, name="FollowState")
__all__ = ["FollowPayload", "FollowState"]


@strawberry.type
class FollowPayload:
    state: FollowState | None = strawberry.field(
        description="The follow's state after the mutation: the viewer's follow of the user "
        "(followUser, unfollowUser), or the requester's follow of the viewer "
        "(respondToFollowRequest: FOLLOWING once approved, NONE once declined); null on error."
    )
    user: UserType | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: FollowResult) -> FollowPayload:
        from schema.types.user import User

        return cls(
            state=result.state,
            user=User.wrap_optional(result.user),
            errors=UserError.from_errors(result.errors),
        )
