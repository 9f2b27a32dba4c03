"""The read-path benchmark: a page of post cards, three ways, on the same data.

The page is the contract's `Feed` operation (chronological: the list straight from the
viewer's precomputed feed in Redis), or with `--source hashtag` a hashtag's page, whose list
is a MongoDB query.

(a) Pictograph as it runs: DataLoaders batching every read, Redis cache warm.
(b) The same schema and resolvers naive: loaders neither batch nor memoise, no cache.
(c) The ceiling for a Python GraphQL server: graphql-core executing the pre-parsed query
    over pre-built Python objects, with no I/O at all.

Run: `.venv/bin/python -m bench.read_path` (starts its own redis-server; MongoDB is
mongomock, or PICTOGRAPH_TEST_MONGODB_URL). Requests run one after another on one core,
so requests per second is 1 / mean latency. The benchmark freezes the garbage collector's
view of the dataset, as bench.feed_read does: mongomock keeps the whole database in this
process's heap, which a server whose MongoDB runs elsewhere does not walk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any, cast

import typer
from graphql import build_schema as build_sdl_schema
from graphql import execute, parse
from rich.console import Console
from rich.table import Table

from app.services import open_runtime
from app.settings import Settings
from bench.dataset import FEED_QUERY, POST_PAGE_QUERY, PostPage, make_post_page
from bench.roundtrips import CountingDatabase, RoundTrips
from bench.stats import LatencyStats
from loaders import Loaders
from resolvers.context import Context, Services
from schema import build_schema
from storage.mongo import Database
from storage.stores import Stores
from tests.servers import redis_server

WARMUP_REQUESTS = 5
DEFAULT_SIZES = [20, 50, 100]  # the page sizes the issue names
SCHEMA = build_schema(mask_errors=False)


class Source(StrEnum):
    FEED = "feed"
    HASHTAG = "hashtag"


def page_request(source: Source, page: PostPage, size: int) -> tuple[str, dict[str, Any]]:
    """The query and the variables of one page."""
    if source is Source.FEED:
        return FEED_QUERY, {"first": size, "order": "CHRONOLOGICAL"}
    return POST_PAGE_QUERY, {"tag": page.hashtag, "first": size}


@dataclasses.dataclass
class Measurement(LatencyStats):
    name: str
    size: int
    round_trips: int
    latencies: list[float]


async def measure(
    name: str, size: int, requests: int, run: Callable[[], Awaitable[object]], counter: RoundTrips
) -> Measurement:
    for _ in range(WARMUP_REQUESTS):
        await run()
    counter.reset()
    await run()
    round_trips = counter.total
    latencies = []
    gc.collect()
    for _ in range(requests):
        started = time.perf_counter()
        await run()
        latencies.append(time.perf_counter() - started)
    return Measurement(name, size, round_trips, latencies)


def strawberry_request(
    services: Services,
    stores: Stores,
    page: PostPage,
    request: tuple[str, dict[str, Any]],
    *,
    batching: bool,
) -> Callable[[], Awaitable[object]]:
    counted = dataclasses.replace(services, stores=stores)
    query, variables = request

    async def run() -> object:
        viewer = (await stores.users.find_by_ids([page.viewer_id]))[page.viewer_id]
        context = Context(
            services=counted,
            loaders=Loaders.create(stores, viewer.id, batching=batching),
            viewer=viewer,
        )
        result = await SCHEMA.execute(query, variable_values=variables, context_value=context)
        assert result.errors is None, result.errors
        return result.data

    return run


def graphql_core_request(
    data: dict[str, Any], request: tuple[str, dict[str, Any]]
) -> Callable[[], Awaitable[object]]:
    """The same query and result, executed by graphql-core over plain dicts."""
    sdl_schema = build_sdl_schema(SCHEMA.as_str())
    query, variables = request
    document = parse(query)
    root = data  # default resolvers read dict keys: the result is its own object graph

    async def run() -> object:
        result = execute(sdl_schema, document, root_value=root, variable_values=variables)
        assert not isinstance(result, Awaitable) and result.errors is None, result
        return result.data

    return run


async def benchmark(
    source: Source, sizes: list[int], requests: int, naive_requests: int
) -> list[Measurement]:
    with redis_server() as redis_url:
        settings = Settings.model_validate(
            {
                "redis_url": redis_url,
                "mongodb_url": os.environ.get("PICTOGRAPH_TEST_MONGODB_URL"),
                "mongodb_database": f"pictograph_bench_{uuid.uuid4().hex[:8]}",
            }
        )
        async with open_runtime(settings) as runtime:
            services = runtime.services
            page = await make_post_page(services, posts=max(sizes))
            counter = RoundTrips()
            counting = cast("Database", CountingDatabase(runtime.database, counter))
            cached = Stores.create(counting, services.redis)
            uncached = Stores.create(counting, services.redis, caching=False)
            gc.freeze()
            results = []
            for size in sizes:
                request = page_request(source, page, size)
                ours = strawberry_request(services, cached, page, request, batching=True)
                naive = strawberry_request(services, uncached, page, request, batching=False)
                data = cast("dict[str, Any]", await ours())
                results.append(await measure("a: pictograph", size, requests, ours, counter))
                results.append(await measure("b: naive", size, naive_requests, naive, counter))
                ceiling = graphql_core_request(data, request)
                results.append(await measure("c: graphql-core", size, requests, ceiling, counter))
            return results


def report(source: Source, results: list[Measurement]) -> None:
    console = Console()
    table = Table(title=f"Read path: a {source} page of post cards (one core, sequential)")
    for column in ("way", "posts", "Mongo round trips", "p50 ms", "p99 ms", "req/s"):
        table.add_column(column, justify="right" if column != "way" else "left")
    for m in results:
        table.add_row(
            m.name,
            str(m.size),
            str(m.round_trips),
            f"{m.p50_ms:.2f}",
            f"{m.p99_ms:.2f}",
            f"{m.requests_per_second:.0f}",
        )
    console.print(table)
    ratios = Table(title="Throughput ratios")
    for column in ("posts", "a / b (target >= 5)", "a / c (target >= 0.8)"):
        ratios.add_column(column, justify="right")
    by_key = {(m.name[0], m.size): m for m in results}
    for size in sorted({m.size for m in results}):
        a, b, c = (by_key[(way, size)].requests_per_second for way in "abc")
        ratios.add_row(str(size), f"{a / b:.1f}x", f"{a / c:.2f}x")
    console.print(ratios)


def main(
    source: Annotated[Source, typer.Option(help="Which list the page reads.")] = Source.FEED,
    sizes: Annotated[list[int], typer.Option(help="Page sizes to measure.")] = DEFAULT_SIZES,
    requests: Annotated[int, typer.Option(help="Measured requests per size, a and c.")] = 300,
    naive_requests: Annotated[int, typer.Option(help="Measured requests per size, b.")] = 30,
) -> None:
    report(source, asyncio.run(benchmark(source, sizes, requests, naive_requests)))


if __name__ == "__main__":
    typer.run(main)
