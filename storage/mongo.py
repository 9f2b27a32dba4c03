"""Opening MongoDB: motor against a real server, or mongomock-motor in memory.

Every motor call stays inside storage/ so the move to PyMongo's AsyncMongoClient (motor is
deprecated) touches one folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from mongomock_motor import AsyncMongoMockClient
from motor.motor_asyncio import AsyncIOMotorClient

if TYPE_CHECKING:
    from motor.motor_asyncio import AsyncIOMotorCollection, AsyncIOMotorDatabase

Document: TypeAlias = dict[str, Any]
Collection: TypeAlias = "AsyncIOMotorCollection[Document]"
Database: TypeAlias = "AsyncIOMotorDatabase[Document]"

SERVER_SELECTION_TIMEOUT_MS = 5_000  # fail fast at start-up instead of motor's 30 s default


@asynccontextmanager
async def open_database(url: str | None, name: str) -> AsyncIterator[Database]:
    """Yield the database; `url=None` selects the in-memory embedded default."""
    client: Any
    if url is None:
        client = AsyncMongoMockClient(tz_aware=True)
    else:
        client = AsyncIOMotorClient(
            url, tz_aware=True, serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS
        )
    try:
        yield client[name]
    finally:
        client.close()


def whole_milliseconds(moment: datetime) -> datetime:
    """`moment` as BSON stores it (milliseconds), so a record equals what is read back."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def ping(database: Database) -> None:
    await database.command("ping")
