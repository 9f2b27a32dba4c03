"""A page of posts costs a constant number of MongoDB round trips, whatever its size, and a
warm home feed page none at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from app.services import Runtime, open_runtime
from bench.dataset import PostPage, make_post_page
from bench.read_path import Source, page_request
from bench.roundtrips import RoundTrips, counted_services
from resolvers.context import Context
from schema import build_schema
from tests.conftest import make_settings

MAX_ROUND_TRIPS = 6  # the target for a page of any size
SCHEMA = build_schema(mask_errors=False)


@pytest.fixture(scope="module")
async def runtime(redis_url: str) -> AsyncIterator[Runtime]:
    async with open_runtime(make_settings(redis_url)) as runtime:
        yield runtime


@pytest.fixture(scope="module")
async def page(runtime: Runtime) -> PostPage:
    return await make_post_page(runtime.services, posts=100)


async def read_page(
    runtime: Runtime, page: PostPage, first: int, counter: RoundTrips, source: Source
) -> list[Any]:
    """The page's edges, read with fresh loaders as a new request would."""
    counted = counted_services(runtime, counter)
    viewer = (await counted.stores.users.find_by_ids([page.viewer_id]))[page.viewer_id]
    counter.reset()
    context = Context.for_viewer(counted, viewer)
    query, variables = page_request(source, page, first)
    result = await SCHEMA.execute(query, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    connection = result.data["feed"] if source is Source.FEED else result.data["hashtag"]["posts"]
    return cast("list[Any]", connection["edges"])


@pytest.mark.parametrize("first", [20, 50, 100])
async def test_a_cold_page_costs_a_constant_number_of_round_trips(
    runtime: Runtime, page: PostPage, first: int
) -> None:
    await runtime.services.redis.flushdb()
    counter = RoundTrips()

    edges = await read_page(runtime, page, first, counter, Source.HASHTAG)

    assert len(edges) == first
    assert counter.total <= MAX_ROUND_TRIPS, dict(counter.by_collection)


@pytest.mark.parametrize("first", [20, 50, 100])
async def test_a_warm_home_feed_page_costs_no_round_trip(
    runtime: Runtime, page: PostPage, first: int
) -> None:
    # Fill the caches. Two reads: after a cold test flushed Redis, the first one rebuilds
    # the feed, and only a read of an existing feed also caches the list of large accounts.
    for _ in range(2):
        await read_page(runtime, page, first, RoundTrips(), Source.FEED)
    counter = RoundTrips()

    edges = await read_page(runtime, page, first, counter, Source.FEED)

    assert len(edges) == first
    assert dict(counter.by_collection) == {}


@pytest.mark.parametrize("first", [20, 50, 100])
async def test_a_warm_hashtag_page_reads_only_the_list_from_mongodb(
    runtime: Runtime, page: PostPage, first: int
) -> None:
    await read_page(runtime, page, first, RoundTrips(), Source.HASHTAG)  # fills the cache
    counter = RoundTrips()

    await read_page(runtime, page, first, counter, Source.HASHTAG)

    # The hashtag's count and its list of post ids are queries; every record and relation
    # comes from Redis.
    assert dict(counter.by_collection) == {"hashtags": 1, "posts": 1}
