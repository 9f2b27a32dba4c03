"""Relay global ids: the opaque `ID` of every node is base64("<Type>:<record id>")."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import TypeVar

from strawberry.relay import GlobalID, GlobalIDValueError

from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError

RecordT = TypeVar("RecordT")

MAX_RECORD_ID = (1 << 63) - 1  # ids are signed 64-bit in MongoDB
# A key a client chooses so that a retried mutation returns its first result (a post's
# clientMutationId, a message's clientId): room for a UUID or a client timestamp and counter.
MAX_RETRY_KEY_LENGTH = 64


def retry_key_error(key: str, field_name: str) -> FieldError | None:
    """Why a client's retry key is refused, naming `field_name`; None when it is fine."""
    if 0 < len(key) <= MAX_RETRY_KEY_LENGTH:
        return None
    return FieldError(ErrorCode.INVALID, field_name, f"Use 1 to {MAX_RETRY_KEY_LENGTH} characters.")


def to_global_id(type_name: str, record_id: int) -> str:
    # What str(GlobalID(...)) gives, without building one: a page makes hundreds of ids.
    return base64.b64encode(f"{type_name}:{record_id}".encode()).decode()


def parse_global_id(raw: str) -> tuple[str, int] | None:
    """(type name, record id), or None when `raw` is not one of our ids."""
    try:
        global_id = GlobalID.from_id(raw)
        record_id = int(global_id.node_id)
    except (GlobalIDValueError, ValueError):
        return None
    if not 0 < record_id <= MAX_RECORD_ID or not global_id.node_id.isdigit():
        return None
    return global_id.type_name, record_id


def parse_typed_id(raw: str, type_name: str) -> int | None:
    """The record id of `raw` when it is an id of a `type_name`, else None."""
    parsed = parse_global_id(raw)
    if parsed is None or parsed[0] != type_name:
        return None
    return parsed[1]


def typed_id_argument(raw: str, type_name: str, field_name: str) -> int | FieldError:
    """The record id a mutation argument names, or the payload error for `field_name` when
    it is not an id of a `type_name`."""
    record_id = parse_typed_id(raw, type_name)
    if record_id is None:
        return FieldError(ErrorCode.INVALID, field_name, f"Not an id of type {type_name}.")
    return record_id


async def node_argument(
    context: Context,
    raw_id: str,
    type_name: str,
    field_name: str,
    find: Callable[[Context, int], Awaitable[RecordT | None]],
) -> RecordT | FieldError:
    """The record a mutation argument names, as `find` gives it (None for what does not exist
    or the viewer may not see); else the payload error for `field_name`."""
    record_id = typed_id_argument(raw_id, type_name, field_name)
    if isinstance(record_id, FieldError):
        return record_id
    record = await find(context, record_id)
    if record is None:
        return FieldError(ErrorCode.NOT_FOUND, field_name, f"No such {type_name.lower()}.")
    return record
