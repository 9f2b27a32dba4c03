"""The `users` collection: accounts, profiles and their denormalised counters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from storage.cache import Cache
from storage.mongo import Collection, Document, whole_milliseconds


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    email: str
    display_name: str
    bio: str
    is_private: bool
    avatar_key: str | None
    follower_count: int
    following_count: int
    post_count: int
    created_at: datetime


class UsernameTaken(Exception):
    pass


class EmailTaken(Exception):
    pass


def _record(document: Document) -> UserRecord:
    return UserRecord(
        id=document["_id"],
        username=document["username"],
        email=document["email"],
        display_name=document["display_name"],
        bio=document["bio"],
        is_private=document["is_private"],
        avatar_key=document.get("avatar_key"),
        follower_count=document["follower_count"],
        following_count=document["following_count"],
        post_count=document["post_count"],
        created_at=document["created_at"],
    )


class UserStore:
    def __init__(self, collection: Collection, cache: Cache[int, UserRecord]) -> None:
        self._users = collection
        self._cache = cache

    async def create_indexes(self) -> None:
        await self._users.create_indexes(
            [
                # Usernames are unique case-insensitively; mongomock has no collations, so the
                # lowercase copy carries the rule in both.
                IndexModel([("username_lower", ASCENDING)], unique=True),
                IndexModel([("email", ASCENDING)], unique=True),
                IndexModel([("display_name_lower", ASCENDING)]),
                IndexModel([("follower_count", DESCENDING)]),
            ]
        )

    async def insert(
        self,
        *,
        user_id: int,
        username: str,
        email: str,
        password_hash: str,
        created_at: datetime,
    ) -> UserRecord:
        created_at = whole_milliseconds(created_at)
        document: Document = {
            "_id": user_id,
            "username": username,
            "username_lower": username.lower(),
            "email": email,
            "password_hash": password_hash,
            "display_name": "",
            "display_name_lower": "",
            "bio": "",
            "is_private": False,
            "avatar_key": None,
            "follower_count": 0,
            "following_count": 0,
            "post_count": 0,
            "created_at": created_at,
        }
        try:
            await self._users.insert_one(document)
        except DuplicateKeyError as error:
            # Which unique index refused it: asked again rather than parsed from the error,
            # whose details differ between MongoDB versions and mongomock.
            if await self._users.find_one({"username_lower": username.lower()}, {"_id": 1}):
                raise UsernameTaken(username) from error
            raise EmailTaken(email) from error
        return _record(document)

    async def find_by_ids(self, user_ids: Iterable[int]) -> dict[int, UserRecord]:
        return await self._cache.read_through(user_ids, self._load)

    async def _load(self, ids: list[int]) -> dict[int, UserRecord]:
        cursor = self._users.find({"_id": {"$in": ids}})
        return {document["_id"]: _record(document) async for document in cursor}

    async def find_id_by_username(self, username: str) -> int | None:
        document = await self._users.find_one({"username_lower": username.lower()}, {"_id": 1})
        return None if document is None else int(document["_id"])

    async def find_ids_by_usernames(self, usernames: Iterable[str]) -> list[int]:
        cursor = self._users.find(
            {"username_lower": {"$in": [name.lower() for name in usernames]}}, {"_id": 1}
        )
        return [int(document["_id"]) async for document in cursor]

    async def ids_with_more_followers_than(self, threshold: int, *, limit: int) -> list[int]:
        cursor = self._users.find({"follower_count": {"$gt": threshold}}, {"_id": 1}).limit(limit)
        return [int(document["_id"]) async for document in cursor]

    async def find_credentials(self, login: str) -> tuple[UserRecord, str] | None:
        """The account whose username or email is `login`, with its password hash."""
        field = "email" if "@" in login else "username_lower"
        document = await self._users.find_one({field: login.lower()})
        if document is None:
            return None
        return _record(document), document["password_hash"]

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self._users.update_one({"_id": user_id}, {"$set": {"password_hash": password_hash}})

    async def update_profile(self, user_id: int, changes: dict[str, Any]) -> UserRecord | None:
        """Apply `changes` (record field names) and return the updated record."""
        update = dict(changes)
        if "display_name" in update:
            update["display_name_lower"] = update["display_name"].lower()
        document = await self._users.find_one_and_update(
            {"_id": user_id}, {"$set": update}, return_document=ReturnDocument.AFTER
        )
        await self._cache.delete(user_id)
        return None if document is None else _record(document)

    async def increment_counts(self, user_id: int, **counts: int) -> UserRecord | None:
        """Atomically add to the counters named `<name>_count` (follower=1, following=-1);
        returns the user as this update left them."""
        document = await self._users.find_one_and_update(
            {"_id": user_id},
            {"$inc": {f"{name}_count": delta for name, delta in counts.items()}},
            return_document=ReturnDocument.AFTER,
        )
        await self._cache.delete(user_id)
        return None if document is None else _record(document)

    async def search(self, prefix: str, limit: int) -> list[UserRecord]:
        """Users whose username or display name starts with `prefix`, most followed first."""
        pattern = {"$regex": "^" + re.escape(prefix.lower())}
        cursor = (
            self._users.find(
                {"$or": [{"username_lower": pattern}, {"display_name_lower": pattern}]}
            )
            .sort([("follower_count", DESCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [_record(document) async for document in cursor]
