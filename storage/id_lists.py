"""Short-lived cached lists of ids in Redis, each the derived answer to a costly question.

This module owns the keys of every such list (`id_list_key`). A list is a cache: it expires
by itself, and whoever changes what it was derived from forgets it.
"""

from __future__ import annotations

from enum import StrEnum

from storage.redis import Redis


class IdList(StrEnum):
    # The large accounts a viewer follows, behind a checksum of the list they came from.
    FOLLOWED_LARGE = "followed-large"


def id_list_key(kind: IdList, owner_id: int) -> str:
    return f"id-list:{kind.value}:{owner_id}"


def encode_ids(ids: list[int]) -> str:
    return ",".join(map(str, ids))


def decode_ids(value: bytes | str) -> list[int]:
    text = value.decode() if isinstance(value, bytes) else value
    return [int(part) for part in text.split(",") if part]


class IdListStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, kind: IdList, owner_id: int) -> list[int] | None:
        """The cached list; None when it expired or was forgotten."""
        value = await self._redis.get(id_list_key(kind, owner_id))
        return None if value is None else decode_ids(value)

    async def put(self, kind: IdList, owner_id: int, ids: list[int], *, ttl_seconds: int) -> None:
        await self._redis.set(id_list_key(kind, owner_id), encode_ids(ids), ex=ttl_seconds)

    async def forget(self, kind: IdList, owner_id: int) -> None:
        await self._redis.delete(id_list_key(kind, owner_id))
