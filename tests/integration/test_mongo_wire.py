"""The MongoDB wire-protocol test server (tests/mongo_wire.py, in a process of its own),
reached through the app's own motor path (storage.mongo.open_database): the behaviours the
app depends on when its server processes share one database through it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from storage.mongo import Database, open_database
from tests.servers import MongoWireProcess, mongo_wire_server

COMMAND_NOT_FOUND = 59


@pytest.fixture(scope="module")
def wire() -> Iterator[MongoWireProcess]:
    with mongo_wire_server() as server:
        yield server


@pytest.fixture
async def database(wire: MongoWireProcess) -> AsyncIterator[Database]:
    async with open_database(wire.url, f"wire_{uuid.uuid4().hex[:12]}") as database:
        yield database


async def test_a_second_client_reads_what_the_first_wrote(
    wire: MongoWireProcess, database: Database
) -> None:
    # Given a document written through one client (one server process's connection pool)
    await database["posts"].insert_one({"_id": 1, "text": "hello"})
    # When another client reads it
    async with open_database(wire.url, database.name) as other:
        found = await other["posts"].find_one({"_id": 1})
    # Then it is there
    assert found == {"_id": 1, "text": "hello"}


async def test_an_insert_breaking_a_unique_index_raises_duplicate_key_error(
    database: Database,
) -> None:
    users = database["users"]
    await users.create_indexes([IndexModel([("username", ASCENDING)], unique=True)])
    await users.insert_one({"username": "alice"})
    with pytest.raises(DuplicateKeyError):
        await users.insert_one({"username": "alice"})
    assert await users.count_documents({}) == 1


async def test_a_sparse_unique_index_allows_many_without_the_key_and_one_with_each_value(
    database: Database,
) -> None:
    posts = database["posts"]
    await posts.create_indexes([IndexModel([("client_key", ASCENDING)], unique=True, sparse=True)])
    await posts.insert_many([{"text": "a"}, {"text": "b"}, {"client_key": "k"}])
    with pytest.raises(DuplicateKeyError):
        await posts.insert_one({"client_key": "k"})


async def test_an_upsert_inserts_once_then_updates(database: Database) -> None:
    counters = database["counters"]
    first = await counters.update_one({"_id": "c"}, {"$inc": {"n": 1}}, upsert=True)
    second = await counters.update_one({"_id": "c"}, {"$inc": {"n": 1}}, upsert=True)
    assert (first.upserted_id, first.matched_count) == ("c", 0)
    assert (second.upserted_id, second.matched_count, second.modified_count) == (None, 1, 1)
    assert await counters.find_one({"_id": "c"}) == {"_id": "c", "n": 2}


async def test_find_one_and_update_returns_the_document_after_the_update(
    database: Database,
) -> None:
    threads = database["threads"]
    await threads.insert_one({"_id": "t", "seq": 4})
    after = await threads.find_one_and_update(
        {"_id": "t"}, {"$inc": {"seq": 1}}, return_document=ReturnDocument.AFTER
    )
    before = await threads.find_one_and_update(
        {"_id": "t"}, {"$inc": {"seq": 1}}, return_document=ReturnDocument.BEFORE
    )
    assert (after, before) == ({"_id": "t", "seq": 5}, {"_id": "t", "seq": 5})


async def test_find_one_and_update_breaking_a_unique_index_raises_duplicate_key_error(
    database: Database,
) -> None:
    users = database["users"]
    await users.create_indexes([IndexModel([("email", ASCENDING)], unique=True)])
    await users.insert_many([{"_id": 1, "email": "a@x"}, {"_id": 2, "email": "b@x"}])
    with pytest.raises(DuplicateKeyError):
        await users.find_one_and_update({"_id": 2}, {"$set": {"email": "a@x"}})


async def test_aggregate_runs_the_pipeline(database: Database) -> None:
    likes = database["likes"]
    await likes.insert_many([{"post": p} for p in ["a", "a", "b", "a"]])
    counted = await likes.aggregate(
        [{"$group": {"_id": "$post", "n": {"$sum": 1}}}, {"$sort": {"n": -1}}]
    ).to_list(None)
    assert counted == [{"_id": "a", "n": 3}, {"_id": "b", "n": 1}]


async def test_a_find_larger_than_a_batch_returns_every_document_in_order(
    database: Database,
) -> None:
    # More than the 101 of a first batch: the rest comes by getMore
    await database["rows"].insert_many([{"_id": n} for n in range(250)])
    found = await database["rows"].find({}).sort("_id", -1).batch_size(40).to_list(None)
    assert [row["_id"] for row in found] == list(range(249, -1, -1))


async def test_an_unimplemented_command_fails_with_command_not_found(
    database: Database,
) -> None:
    with pytest.raises(OperationFailure) as failure:
        await database.command("collStats", "rows")
    assert failure.value.code == COMMAND_NOT_FOUND
