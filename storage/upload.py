"""The `uploads` collection: what a user was allowed to upload, and whether it was used.

An upload is claimed by the post, story, reel or avatar that uses it with one conditional
update per upload, so two requests can never both use it. Its id and its key are random:
an upload's bytes still carry the metadata (GPS included) that its media are stripped of.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from storage.mongo import Collection, Document

UPLOAD_KEY_PREFIX = "uploads/"  # raw uploads: never served, read only by the server
UPLOAD_KEY_TOKEN_BYTES = 16  # 128 random bits, as much as a session token's guessing needs


def new_upload_key(owner_id: int) -> str:
    """A fresh key under the owner's own prefix, `uploads/<owner id>/<random token>`."""
    return f"{UPLOAD_KEY_PREFIX}{owner_id}/{secrets.token_hex(UPLOAD_KEY_TOKEN_BYTES)}"


def upload_key_owner(key: str) -> int | None:
    """The owner whose prefix `key` is under, if it has the shape of an upload's key."""
    prefix, _, rest = key.partition("/")
    owner, _, token = rest.partition("/")
    if f"{prefix}/" != UPLOAD_KEY_PREFIX or not owner.isdigit() or not token or "/" in token:
        return None
    return int(owner)


class UploadState(StrEnum):
    PENDING = "PENDING"
    USED = "USED"


@dataclass(frozen=True, slots=True)
class UploadRecord:
    id: int
    owner_id: int
    key: str
    content_type: str
    byte_size: int  # as declared by the client; checked against what arrived
    expires_at: datetime
    state: UploadState


def _record(document: Document) -> UploadRecord:
    return UploadRecord(
        id=document["_id"],
        owner_id=document["owner_id"],
        key=document["key"],
        content_type=document["content_type"],
        byte_size=document["byte_size"],
        expires_at=document["expires_at"],
        state=UploadState(document["state"]),
    )


class UploadStore:
    def __init__(self, collection: Collection) -> None:
        self._uploads = collection

    async def create_indexes(self) -> None:
        await self._uploads.create_indexes(
            [IndexModel([("owner_id", ASCENDING)]), IndexModel([("key", ASCENDING)], unique=True)]
        )

    async def insert(self, record: UploadRecord) -> bool:
        """Whether it was inserted: False when its random id or key is already taken."""
        try:
            await self._uploads.insert_one(
                {
                    "_id": record.id,
                    "owner_id": record.owner_id,
                    "key": record.key,
                    "content_type": record.content_type,
                    "byte_size": record.byte_size,
                    "expires_at": record.expires_at,
                    "state": record.state.value,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def find_by_key(self, key: str) -> UploadRecord | None:
        document = await self._uploads.find_one({"key": key})
        return None if document is None else _record(document)

    async def find_by_ids(self, upload_ids: Iterable[int]) -> dict[int, UploadRecord]:
        cursor = self._uploads.find({"_id": {"$in": list(upload_ids)}})
        return {document["_id"]: _record(document) async for document in cursor}

    async def claim(self, upload_ids: list[int], owner_id: int, user_key: str) -> bool:
        """Mark every upload used by `user_key` (e.g. "post:123"), or none of them."""
        claimed: list[int] = []
        for upload_id in upload_ids:
            result = await self._uploads.update_one(
                {"_id": upload_id, "owner_id": owner_id, "state": UploadState.PENDING.value},
                {"$set": {"state": UploadState.USED.value, "used_by": user_key}},
            )
            if not result.modified_count:
                await self.release(claimed, user_key)
                return False
            claimed.append(upload_id)
        return True

    async def release(self, upload_ids: list[int], user_key: str) -> None:
        """Undo `claim` for what `user_key` claimed, when the write that needed it failed."""
        await self._uploads.update_many(
            {"_id": {"$in": upload_ids}, "used_by": user_key},
            {"$set": {"state": UploadState.PENDING.value}, "$unset": {"used_by": ""}},
        )
