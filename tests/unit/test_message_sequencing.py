"""Seqs under concurrency, against the store itself: sends from two processes (two stores,
each with its own turns) to one thread, over a database whose every call yields to the event
loop as a networked MongoDB's does (mongomock answers without yielding, so without this no
two sends could interleave between reading the highest seq and inserting the next)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from storage.ids import IdGenerator
from storage.message import MessageRecord, MessageStore
from storage.mongo import Collection, Database, open_database

AWAITED = frozenset({"find_one", "insert_one", "update_one", "find_one_and_update"})
PROCESSES = 2
SENDS_PER_PROCESS = 100  # 200 in all: the figure
RETRIES_PER_PROCESS = 10
NOW = datetime(2026, 6, 1, tzinfo=UTC)


class YieldingCollection:
    """The collection, but each awaited call first lets every other task run."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._collection, attribute)
        if attribute not in AWAITED:
            return value

        async def yielding(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0)
            return await value(*args, **kwargs)

        return yielding


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    async with open_database(None, f"sequencing_{uuid.uuid4().hex[:8]}") as database:
        yield database


def store(database: Database) -> MessageStore:
    def collection(name: str) -> Collection:
        return cast("Collection", YieldingCollection(database[name]))

    return MessageStore(collection("threads"), collection("messages"))


async def thread_of(database: Database, ids: IdGenerator) -> tuple[list[MessageStore], int]:
    stores = [store(database) for _ in range(PROCESSES)]
    await stores[0].create_indexes()
    thread = await stores[0].find_or_create_thread(ids.next_id(), [1, 2], NOW)
    return stores, thread.id


def sender(
    messages: MessageStore, ids: IdGenerator, thread_id: int
) -> Callable[[str], Awaitable[MessageRecord]]:
    async def send(client_id: str) -> MessageRecord:
        return await messages.append(
            message_id=ids.next_id(),
            thread_id=thread_id,
            sender_id=1,
            text=client_id,
            client_id=client_id,
            created_at=NOW,
        )

    return send


async def test_concurrent_sends_from_two_processes_get_seqs_one_to_n(database: Database) -> None:
    ids = IdGenerator(worker_id=1)
    stores, thread_id = await thread_of(database, ids)

    sent = await asyncio.gather(
        *(
            sender(messages, ids, thread_id)(uuid.uuid4().hex)
            for messages in stores
            for _ in range(SENDS_PER_PROCESS)
        )
    )

    assert sorted(message.seq for message in sent) == list(
        range(1, PROCESSES * SENDS_PER_PROCESS + 1)
    )
    [thread] = (await stores[0].find_threads_by_ids([thread_id])).values()
    assert thread.last_seq == PROCESSES * SENDS_PER_PROCESS


async def test_retries_racing_in_two_processes_store_one_message_and_leave_no_gap(
    database: Database,
) -> None:
    ids = IdGenerator(worker_id=2)
    stores, thread_id = await thread_of(database, ids)

    answers = await asyncio.gather(
        *(
            sender(messages, ids, thread_id)("the-same-send")
            for messages in stores
            for _ in range(RETRIES_PER_PROCESS)
        )
    )
    after = await sender(stores[0], ids, thread_id)("the-next-send")

    assert {message.id for message in answers} == {answers[0].id}
    assert (answers[0].seq, after.seq) == (1, 2)
