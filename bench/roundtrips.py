"""Counting round trips: a MongoDB database proxy whose collections count every operation,
and a Redis client whose connections count what they send.

Each operation our stores run is one round trip (cursors are read in one batch: pages are
capped at 101 documents, MongoDB's first batch). mongomock has no command monitoring, so the
count is taken at the collection API, which is the same for motor and mongomock.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import Connection

from storage.mongo import Database
from storage.stores import Stores

if TYPE_CHECKING:
    from app.services import Runtime
    from resolvers.context import Services

OPERATIONS = frozenset(
    {
        "find",
        "find_one",
        "find_one_and_update",
        "find_one_and_delete",
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "delete_one",
        "delete_many",
        "aggregate",
        "count_documents",
    }
)


class RoundTrips:
    def __init__(self) -> None:
        self.by_collection: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.by_collection.values())

    def reset(self) -> None:
        self.by_collection.clear()


class CountingCollection:
    def __init__(self, collection: Any, name: str, counter: RoundTrips) -> None:
        self._collection = collection
        self._name = name
        self._counter = counter

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._collection, attribute)
        if attribute in OPERATIONS:
            self._counter.by_collection[self._name] += 1
        return value


class CountingDatabase:
    def __init__(self, database: Any, counter: RoundTrips) -> None:
        self._database = database
        self._counter = counter

    def __getitem__(self, name: str) -> CountingCollection:
        return CountingCollection(self._database[name], name, self._counter)


def counting_redis(url: str, counter: RoundTrips) -> Redis:
    """A client of the Redis at `url` that counts each round trip (one command, or one whole
    pipeline or script call) under "redis" in `counter`."""

    class CountingConnection(Connection):
        async def send_packed_command(
            self, command: bytes | str | Iterable[bytes], check_health: bool = True
        ) -> None:
            counter.by_collection["redis"] += 1
            await super().send_packed_command(command, check_health)

    pool: ConnectionPool = ConnectionPool.from_url(url, connection_class=CountingConnection)
    return Redis(connection_pool=pool)


def counted_services(runtime: Runtime, counter: RoundTrips) -> Services:
    """The runtime's services with stores whose MongoDB operations `counter` counts (their
    Redis is the runtime's own)."""
    services = runtime.services
    counting = cast("Database", CountingDatabase(runtime.database, counter))
    return dataclasses.replace(services, stores=Stores.create(counting, services.redis))
