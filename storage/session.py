"""The `sessions` collection: bearer tokens, stored only as hashes.

A token is 256 random bits, so one unsalted SHA-256 is enough to make a leaked collection
useless; a slow hash would only slow down every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from pymongo import ASCENDING, IndexModel

from storage.mongo import Collection

TOKEN_BYTES = 32  # 256 bits, as OWASP's session-id guidance asks for at least 64


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    user_id: int
    expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, collection: Collection) -> None:
        self._sessions = collection

    async def create_indexes(self) -> None:
        await self._sessions.create_indexes(
            [
                # MongoDB removes expired sessions itself; reads still check expires_at
                # because the TTL monitor runs only once a minute.
                IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0),
                IndexModel([("user_id", ASCENDING)]),
            ]
        )

    async def create(self, user_id: int, *, now: datetime, expires_at: datetime) -> str:
        """Start a session and return its token, which is never stored."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await self._sessions.insert_one(
            {
                "_id": hash_token(token),
                "user_id": user_id,
                "created_at": now,
                "expires_at": expires_at,
            }
        )
        return token

    async def find_active(self, token: str, *, now: datetime) -> SessionRecord | None:
        document = await self._sessions.find_one(
            {"_id": hash_token(token), "expires_at": {"$gt": now}}
        )
        if document is None:
            return None
        return SessionRecord(
            token_hash=document["_id"],
            user_id=document["user_id"],
            expires_at=document["expires_at"],
        )

    async def is_active(self, token_hash: str, *, now: datetime) -> bool:
        """Whether the session is neither revoked nor expired (one indexed read, by _id)."""
        document = await self._sessions.find_one(
            {"_id": token_hash, "expires_at": {"$gt": now}}, projection={"_id": True}
        )
        return document is not None

    async def revoke(self, token_hash: str) -> None:
        await self._sessions.delete_one({"_id": token_hash})
