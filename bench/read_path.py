"""The read-path benchmark: a page of post cards, three ways, on the same data.

The page is the contract's `Feed` operation (chronological: the list straight from the
viewer's precomputed feed in Redis), or with `--source hashtag` a hashtag's page, whose list
is a MongoDB query.

(a) Pictograph as it runs: DataLoaders batching every read, Redis cache warm.
(b) The same schema and resolvers naive: loaders neither batch nor memoise, no cache
    (built by bench.naive, so the production classes carry no switch for it).
(c) The ceiling for a Python GraphQL server: graphql-core executing the pre-parsed query
    over pre-built Python objects, with no I/O at all.
(d) Not one of the issue's ways: a with its loaders already full, one Context kept across
    requests, so every record is memoised and only the feed's list is read from Redis. It
    bounds what any work on fetching and decoding could gain: a can come no closer to c.

Run: `.venv/bin/python -m bench.read_path` (starts its own redis-server; MongoDB is
mongomock, or PICTOGRAPH_TEST_MONGODB_URL). Requests run one after another on one core,
so requests per second is 1 / mean latency. The benchmark freezes the garbage collector's
view of the dataset, as bench.feed_read does: mongomock keeps the whole database in this
process's heap, which a server whose MongoDB runs elsewhere does not walk.

CPython 3.11 to 3.13.12 slow down a deep recursion (graphql-core's execution is one) up
to 2.3x when it keeps crossing a boundary of the interpreter's frame stack chunks, at a
depth that depends on whatever lies beneath it (CPython issue gh-142183; measured here,
BENCHMARKS.md). A single run would measure one arbitrary depth, luckier for one way than
another. So the run is repeated in passes, each in a fresh thread beneath a different
number of extra frames (STACK_OFFSETS), and a and c pool their requests over all passes.
The naive way runs in the first pass only: it is too slow to repeat, and its ratio is
far from its target either way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Annotated, Any, TypeVar, cast

import typer
from graphql import build_schema as build_sdl_schema
from graphql import execute, parse
from rich.console import Console
from rich.table import Table

from app.services import open_runtime
from app.settings import Settings
from bench.dataset import FEED_QUERY, POST_PAGE_QUERY, PostPage, make_post_page
from bench.naive import naive_loaders, uncached_stores
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
# Extra frames beneath each pass: spread over more than one stack chunk's worth of the
# execution's frames, so that every way meets lucky and unlucky depths alike.
STACK_OFFSETS = (0, 20, 40, 60, 80, 100)
SCHEMA = build_schema(mask_errors=False)

ResultT = TypeVar("ResultT")


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
    pass_p50s_ms: list[float] = dataclasses.field(default_factory=list)  # one per pass

    @property
    def best_pass_p50_ms(self) -> float:
        """The p50 of the luckiest pass: the cost without the frame-stack artefact."""
        return min(self.pass_p50s_ms)


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
    loaders: Callable[[Stores, int | None], Loaders] = Loaders.create,
    loaders_kept: bool = False,
) -> Callable[[], Awaitable[object]]:
    """`loaders_kept`: one Context for every request (way d), else one per request."""
    counted = dataclasses.replace(services, stores=stores)
    query, variables = request
    contexts: list[Context] = []

    async def run() -> object:
        if not contexts or not loaders_kept:
            viewer = (await stores.users.find_by_ids([page.viewer_id]))[page.viewer_id]
            contexts[:] = [
                Context(services=counted, loaders=loaders(stores, viewer.id), viewer=viewer)
            ]
        context = contexts[0]
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


async def one_pass(
    redis_url: str, source: Source, sizes: list[int], requests: int, naive_requests: int
) -> list[Measurement]:
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
        uncached = uncached_stores(counting, cached)
        gc.freeze()
        results = []
        for size in sizes:
            request = page_request(source, page, size)
            ours = strawberry_request(services, cached, page, request)
            data = cast("dict[str, Any]", await ours())
            results.append(await measure("a: pictograph", size, requests, ours, counter))
            kept = strawberry_request(services, cached, page, request, loaders_kept=True)
            results.append(await measure("d: a, loaders full", size, requests, kept, counter))
            if naive_requests:
                naive = strawberry_request(services, uncached, page, request, loaders=naive_loaders)
                results.append(await measure("b: naive", size, naive_requests, naive, counter))
            ceiling = graphql_core_request(data, request)
            results.append(await measure("c: graphql-core", size, requests, ceiling, counter))
        return results


def beneath_frames(frames: int, call: Callable[[], ResultT]) -> ResultT:
    """`call()` in a fresh thread (a fresh frame stack), beneath `frames` extra frames."""

    def nested(left: int) -> ResultT:
        return call() if left == 0 else nested(left - 1)

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(nested, frames).result()


def benchmark(
    source: Source, sizes: list[int], requests: int, naive_requests: int
) -> list[Measurement]:
    """Every pass's measurements, pooled per way and size."""
    pooled: dict[tuple[str, int], Measurement] = {}
    per_pass = max(1, requests // len(STACK_OFFSETS))
    with redis_server() as redis_url:
        for number, frames in enumerate(STACK_OFFSETS):
            naive = naive_requests if number == 0 else 0
            run_pass = functools.partial(
                asyncio.run, one_pass(redis_url, source, sizes, per_pass, naive)
            )
            measured = beneath_frames(frames, run_pass)
            for m in measured:
                if (key := (m.name, m.size)) in pooled:
                    pooled[key].latencies += m.latencies
                else:
                    pooled[key] = m
                pooled[key].pass_p50s_ms.append(m.p50_ms)
    return sorted(pooled.values(), key=lambda m: (m.size, m.name))


def report(source: Source, results: list[Measurement]) -> None:
    console = Console(width=140)  # wide enough for every column, in a pipe too
    table = Table(title=f"Read path: a {source} page of post cards (one core, sequential)")
    columns = ("way", "posts", "Mongo round trips", "p50 ms", "p99 ms", "req/s", "best pass p50 ms")
    for column in columns:
        table.add_column(column, justify="right" if column != "way" else "left")
    for m in results:
        table.add_row(
            m.name,
            str(m.size),
            str(m.round_trips),
            f"{m.p50_ms:.2f}",
            f"{m.p99_ms:.2f}",
            f"{m.requests_per_second:.0f}",
            f"{m.best_pass_p50_ms:.2f}",
        )
    console.print(table)
    ratios = Table(title="Throughput ratios")
    targets = ("a / b (target >= 5)", "a / c (target >= 0.8)", "a / c best passes")
    for column in ("posts", *targets, "d / c", "d / c best passes"):
        ratios.add_column(column, justify="right")
    by_key = {(m.name[0], m.size): m for m in results}
    for size in sorted({m.size for m in results}):
        a, c, d = (by_key[(way, size)] for way in "acd")
        b = by_key.get(("b", size))  # absent when run with --naive-requests 0
        ratios.add_row(
            str(size),
            "-" if b is None else f"{a.requests_per_second / b.requests_per_second:.1f}x",
            f"{a.requests_per_second / c.requests_per_second:.2f}x",
            f"{c.best_pass_p50_ms / a.best_pass_p50_ms:.2f}x",
            f"{d.requests_per_second / c.requests_per_second:.2f}x",
            f"{c.best_pass_p50_ms / d.best_pass_p50_ms:.2f}x",
        )
    console.print(ratios)


def main(
    source: Annotated[Source, typer.Option(help="Which list the page reads.")] = Source.FEED,
    sizes: Annotated[list[int], typer.Option(help="Page sizes to measure.")] = DEFAULT_SIZES,
    requests: Annotated[int, typer.Option(help="Measured requests per size, a, c and d.")] = 300,
    naive_requests: Annotated[int, typer.Option(help="Measured requests per size, b.")] = 30,
) -> None:
    report(source, benchmark(source, sizes, requests, naive_requests))


if __name__ == "__main__":
    typer.run(main)
