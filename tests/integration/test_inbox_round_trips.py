"""The inbox costs a constant number of MongoDB round trips whatever the number of threads
on its page: last messages, participants and blocks are each one batched read."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from app.services import Runtime, open_runtime
from bench.roundtrips import RoundTrips, counted_services
from resolvers.context import Context
from schema import build_schema
from storage.user import UserRecord
from tests.conftest import insert_user, make_settings
from tests.contract import operation_source

# One read each, cold (Redis flushed): the page of threads, their last messages, their
# people, and the blocks between those people and the viewer.
MAX_ROUND_TRIPS = 4
PAGE_SIZES = [5, 20, 50]
SCHEMA = build_schema(mask_errors=False)


@pytest.fixture(scope="module")
async def runtime(redis_url: str) -> AsyncIterator[Runtime]:
    async with open_runtime(make_settings(redis_url)) as runtime:
        yield runtime


@pytest.fixture(scope="module")
async def viewer(runtime: Runtime) -> UserRecord:
    """In as many threads as the largest page, each with two others and two messages."""
    services = runtime.services
    viewer = await insert_user(services)
    messages = services.stores.messages
    for _ in range(max(PAGE_SIZES)):
        others = [await insert_user(services) for _ in range(2)]
        people = [viewer.id, *(other.id for other in others)]
        thread = await messages.find_or_create_thread(
            services.ids.next_id(), people, services.clock()
        )
        for sender in (others[0], viewer):
            await messages.append(
                message_id=services.ids.next_id(),
                thread_id=thread.id,
                sender_id=sender.id,
                text="hi",
                client_id=uuid.uuid4().hex,
                created_at=services.clock(),
            )
    return viewer


async def read_inbox(
    runtime: Runtime, viewer: UserRecord, first: int, counter: RoundTrips
) -> list[Any]:
    counted = counted_services(runtime, counter)
    counter.reset()
    result = await SCHEMA.execute(
        operation_source("Inbox"),
        variable_values={"first": first},
        context_value=Context.for_viewer(counted, viewer),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return cast("list[Any]", result.data["threads"]["edges"])


@pytest.mark.parametrize("first", PAGE_SIZES)
async def test_a_cold_inbox_page_costs_a_constant_number_of_round_trips(
    runtime: Runtime, viewer: UserRecord, first: int
) -> None:
    await runtime.services.redis.flushdb()
    counter = RoundTrips()

    edges = await read_inbox(runtime, viewer, first, counter)

    assert len(edges) == first
    assert all(len(edge["node"]["participants"]) == 3 for edge in edges)
    assert all(edge["node"]["lastMessage"] is not None for edge in edges)
    assert counter.total <= MAX_ROUND_TRIPS, dict(counter.by_collection)
