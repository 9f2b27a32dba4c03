"""Serialising storage records (frozen dataclasses) for the Redis cache."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Hashable
from datetime import datetime
from typing import Any, TypeVar, cast

import orjson

RecordT = TypeVar("RecordT")


def encode_record(record: object) -> bytes:
    return orjson.dumps(record)


@functools.cache
def _datetime_fields(record_type: Any) -> frozenset[str]:
    hints = typing.get_type_hints(record_type)
    return frozenset(
        field.name
        for field in dataclasses.fields(record_type)
        if datetime in (hints[field.name], *typing.get_args(hints[field.name]))
    )


def decode_record(record_type: type[RecordT], data: bytes | str) -> RecordT:
    values: dict[str, Any] = orjson.loads(data)
    for name in _datetime_fields(cast("Hashable", record_type)):
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    return record_type(**values)
