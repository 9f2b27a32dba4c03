"""Serialising storage records (frozen dataclasses, possibly nested) for the Redis cache."""

from __future__ import annotations

import functools
from collections.abc import Hashable
from typing import Any, TypeVar, cast

import orjson
from pydantic import TypeAdapter

RecordT = TypeVar("RecordT")


def encode_record(record: object) -> bytes:
    return orjson.dumps(record)


@functools.cache
def _adapter(record_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(record_type)


def decode_record(record_type: type[RecordT], data: bytes | str) -> RecordT:
    """The record `encode_record` wrote: nested records, tuples and datetimes restored."""
    record: RecordT = _adapter(cast("Hashable", record_type)).validate_json(data)
    return record
