"""Finding trusted documents: MongoDB is the truth, each process caches its hits, within a
budget of bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.trusted.documents import TrustedDocuments
from app.trusted.manifest import document_id
from storage.mongo import Database, open_database
from storage.trusted_document import (
    COLLECTION_NAME,
    OperationType,
    TrustedDocument,
    TrustedDocumentStore,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    async with open_database(None, "trusted_documents_test") as database:
        yield database


def trusted(name: str, padding: int = 0) -> TrustedDocument:
    body = f"# {'x' * padding}\nquery {name} {{ viewer {{ id }} }}"
    return TrustedDocument(id=document_id(body), name=name, type=OperationType.QUERY, body=body)


async def forget_in_database(database: Database, *documents: TrustedDocument) -> None:
    await database[COLLECTION_NAME].delete_many({"_id": {"$in": [d.id for d in documents]}})


async def test_a_registered_document_is_found_by_its_hash(database: Database) -> None:
    store = TrustedDocumentStore.of(database)
    document = trusted("Registered")
    await store.register([document], source="team", now=NOW)

    assert await TrustedDocuments([], store).find(document.id) == document


async def test_a_document_found_once_is_found_again_from_the_process_cache(
    database: Database,
) -> None:
    # Given a document found once, then gone from the database
    store = TrustedDocumentStore.of(database)
    document = trusted("Cached")
    await store.register([document], source="team", now=NOW)
    documents = TrustedDocuments([], store)
    await documents.find(document.id)
    await forget_in_database(database, document)
    # Then the process still finds it: a hash names one body forever
    assert await documents.find(document.id) == document


async def test_the_cache_keeps_only_its_budget_of_bytes_least_recent_out_first(
    database: Database,
) -> None:
    # Given a cache of room for one of two large documents, both found in turn
    store = TrustedDocumentStore.of(database)
    older, newer = trusted("Older", padding=600), trusted("Newer", padding=600)
    await store.register([older, newer], source="team", now=NOW)
    documents = TrustedDocuments([], store, cache_bytes=1_000)
    await documents.find(older.id)
    await documents.find(newer.id)
    # When both are gone from the database
    await forget_in_database(database, older, newer)
    # Then only the most recent is still in the process
    assert await documents.find(newer.id) == newer
    assert await documents.find(older.id) is None


async def test_built_in_documents_need_no_database(database: Database) -> None:
    document = trusted("Contract")

    found = await TrustedDocuments([document], TrustedDocumentStore.of(database)).find(document.id)

    assert found == document


async def test_what_cannot_be_a_hash_is_never_looked_up(database: Database) -> None:
    store = TrustedDocumentStore.of(database)
    odd = TrustedDocument(id="ViewerName", name="ViewerName", type=OperationType.QUERY, body="")
    await database[COLLECTION_NAME].insert_one(
        {"_id": odd.id, "name": odd.name, "type": "query", "body": ""}
    )

    assert await TrustedDocuments([], store).find("ViewerName") is None
