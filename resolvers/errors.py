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


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """The result of a delete: the record id that is gone (None when nothing was deleted,
    and `errors` says why), so a client can evict it from its cache."""

    deleted_id: int | None = None
    errors: list[FieldError] = field(default_factory=list)


class PublicError(GraphQLError):
    code: ClassVar[str]

    def __init__(self, message: str, **extensions: object) -> None:
        """`extensions` go beside the code, named as clients read them (camelCase)."""
        super().__init__(message, extensions={"code": self.code, **extensions})


class Unauthenticated(PublicError):
    code = "UNAUTHENTICATED"


class BadUserInput(PublicError):
    code = "BAD_USER_INPUT"


class Forbidden(PublicError):
    """A field the viewer sees the object of, but may not read (a story's viewers, for
    anyone but its author)."""

    code = "FORBIDDEN"


class RateLimited(PublicError):
    """Too many attempts: `extensions.retryAfterSeconds` says when the next one may succeed."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, retryAfterSeconds=retry_after_seconds)


class CursorExpired(PublicError):
    """A genuine cursor into a list snapshot that is gone (a ranked window expired): the
    client reloads the list from the top. A forged cursor is BAD_USER_INPUT instead."""

    code = "CURSOR_EXPIRED"


class QueryTooCostly(PublicError):
    """Refused before anything ran: the document is too big to validate, or what it asks
    for costs more than one request may (`extensions.cost` and `extensions.limit` then say
    how much)."""

    code = "QUERY_TOO_COSTLY"


class Timeout(PublicError):
    """The request ran past its deadline and was stopped; a smaller page may fit."""

    code = "TIMEOUT"
