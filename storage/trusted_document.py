"""The `trusted_documents` collection: the operations that teams registered from their
persisted-query manifests, each keyed by the SHA-256 of its body.

MongoDB is the truth so that every server process sees a registration at once; processes
cache what they found (app/trusted). A document never changes under its id (the id is the
hash of its body), so registering a manifest again, or one that shares operations with
another, changes nothing for those operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.mongo import Collection, Database, Document

COLLECTION_NAME = "trusted_documents"


class OperationType(StrEnum):
    QUERY = "query"
    MUTATION = "mutation"
    SUBSCRIPTION = "subscription"


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    id: str  # the SHA-256 of `body`, hex, as Apollo's manifest and its link write it
    name: str
    type: OperationType
    body: str


def _record(document: Document) -> TrustedDocument:
    return TrustedDocument(
        id=document["_id"],
        name=document["name"],
        type=OperationType(document["type"]),
        body=document["body"],
    )


class TrustedDocumentStore:
    def __init__(self, collection: Collection) -> None:
        self._documents = collection

    @classmethod
    def of(cls, database: Database) -> TrustedDocumentStore:
        return cls(database[COLLECTION_NAME])

    async def find(self, document_id: str) -> TrustedDocument | None:
        document = await self._documents.find_one({"_id": document_id})
        return None if document is None else _record(document)

    async def register(
        self, documents: Sequence[TrustedDocument], *, source: str, now: datetime
    ) -> int:
        """Add the documents; returns how many were new. `source` (the manifest's file name
        or team) is recorded beside each. Every write is idempotent, so a registration cut
        short is completed by running it again. (One upsert each, not a bulk_write, which
        mongomock cannot run; manifests hold hundreds of operations, not millions.)"""
        new = 0
        for document in documents:
            result = await self._documents.update_one(
                {"_id": document.id},
                {
                    "$setOnInsert": {
                        "name": document.name,
                        "type": document.type.value,
                        "body": document.body,
                        "registered_at": now,
                    },
                    "$addToSet": {"sources": source},
                },
                upsert=True,
            )
            new += result.upserted_id is not None
        return new

    async def count(self) -> int:
        total: int = await self._documents.count_documents({})
        return total
