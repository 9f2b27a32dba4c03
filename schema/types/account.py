"""Accounts: signing up, logging in and out."""

from __future__ import annotations

import strawberry

from resolvers.account import AuthResult
from schema.types.common import UserError
from schema.types.user import User


@strawberry.type
class AuthPayload:
    token: str | None = strawberry.field(
        description='The bearer token: send it as "Authorization: Bearer <token>".'
    )
    user: User | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: AuthResult) -> AuthPayload:
        return cls(
            token=result.token,
            user=User.wrap_optional(result.user),
            errors=UserError.from_errors(result.errors),
        )


@strawberry.input
class SignUpInput:
    username: str
    email: str
    password: str


@strawberry.input
class LogInInput:
    login: str = strawberry.field(description="The username or the email address.")
    password: str
