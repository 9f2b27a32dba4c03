"""Types every domain shares: payload errors, connections, and the typed `Info`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeAlias, TypeVar

import strawberry
from strawberry import relay

from resolvers.context import Context
from resolvers.errors import DeleteResult, ErrorCode, FieldError, OkResult
from resolvers.ids import to_global_id
from resolvers.pagination import Page

Info: TypeAlias = strawberry.Info[Context, None]

# Registered under its GraphQL name; annotations use the resolvers' enum itself.
strawberry.enum(ErrorCode, name="UserErrorCode")

RecordT = TypeVar("RecordT")


@strawberry.interface(description="An object with a global id, resolvable through `node(id:)`.")
class Node:
    # A plain attribute, not a resolver: strawberry then reads it without wrapping a call,
    # which matters on pages of hundreds of nodes.
    id: strawberry.ID


NodeT = TypeVar("NodeT", bound=Node)


@strawberry.type(description="An edge in a connection.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Pass as `after` to continue after this edge.")
    node: NodeT


@strawberry.type(description="A page of a list, as Relay's cursor connections specify.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: relay.PageInfo


@strawberry.type(description="An expected failure of a mutation; nothing was written.")
class UserError:
    code: ErrorCode
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    message: str

    @classmethod
    def from_errors(cls, errors: list[FieldError]) -> list[UserError]:
        return [cls(code=error.code, field=error.field, message=error.message) for error in errors]


@strawberry.type
class OkPayload:
    ok: bool
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: OkResult) -> OkPayload:
        return cls(ok=result.ok, errors=UserError.from_errors(result.errors))


@strawberry.type(description="What every delete returns.")
class DeletePayload:
    ok: bool = strawberry.field(description="Whether the thing is gone (`deletedId` is set).")
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The id of what was deleted, for a client to evict from its cache; null "
        "when nothing was (see `errors`)."
    )
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: DeleteResult, type_name: str) -> DeletePayload:
        deleted = result.deleted_id
        return cls(
            ok=deleted is not None,
            deleted_id=None if deleted is None else strawberry.ID(to_global_id(type_name, deleted)),
            errors=UserError.from_errors(result.errors),
        )


def to_connection(page: Page[RecordT], wrap: Callable[[RecordT], NodeT]) -> Connection[NodeT]:
    edges = [Edge(cursor=cursor, node=wrap(record)) for cursor, record in page.edges]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=False,  # forward pagination only
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
