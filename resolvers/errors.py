"""The two ways a resolver reports failure.

- `FieldError`: an expected failure of a mutation, returned in its payload's `errors` with the
  input field it is about (HTTP 200, nothing written).
- `PublicError` subclasses: request-level failures raised as GraphQL errors whose
  `extensions.code` clients switch on. They are never masked; anything else raised inside a
  resolver is an internal error and is masked outside development.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from graphql import GraphQLError


class ErrorCode(StrEnum):
    INVALID = "INVALID"  # malformed: wrong format, length or characters
    TAKEN = "TAKEN"  # a unique value someone else already has
    NOT_FOUND = "NOT_FOUND"  # no such thing, or one the viewer may not see
    FORBIDDEN = "FORBIDDEN"  # exists and is visible, but the viewer may not do this
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"  # the same for unknown user and wrong password
    RATE_LIMITED = "RATE_LIMITED"


@dataclass(frozen=True, slots=True)
class FieldError:
    code: ErrorCode
    field: str | None  # the input field as the client named it (camelCase)
    message: str


@dataclass(frozen=True, slots=True)
class OkResult:
    """The result of a mutation that returns nothing but whether it happened."""

    ok: bool = False
    errors: list[FieldError] = field(default_factory=list)


class PublicError(GraphQLError):
    code: ClassVar[str]

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class Unauthenticated(PublicError):
    code = "UNAUTHENTICATED"


class Forbidden(PublicError):
    code = "FORBIDDEN"


class BadUserInput(PublicError):
    code = "BAD_USER_INPUT"


class RateLimited(PublicError):
    code = "RATE_LIMITED"


class CursorExpired(PublicError):
    """A genuine cursor into a list snapshot that is gone (a ranked window expired): the
    client reloads the list from the top. A forged cursor is BAD_USER_INPUT instead."""

    code = "CURSOR_EXPIRED"
