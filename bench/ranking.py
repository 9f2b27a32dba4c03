"""The ranking benchmark: the engagement model scoring windows of 50, 200 and 1,000
candidates in process (onnxruntime) and through Triton over HTTP and gRPC; then the first
page of the ranked home feed (a 200-candidate window) with ranking on (Triton over gRPC and
HTTP, in process) and off.

Triton is `pictograph triton` (the nvidia-pytriton wheel on the CPU, a Python function
running onnxruntime behind Triton's dynamic batcher), started by the benchmark on free ports.
No GPU here: the figures are Triton on this machine's CPU.

"Off" has two baselines: the ranked path with a ranker that makes no model call (the same
window is loaded, filtered, saved for paging: what the model call adds is the difference)
and the chronological page (no window at all). Variants run round-robin, one request each in
turn, so the shared machine's drift touches them alike.

Run: `.venv/bin/python -m bench.ranking` (starts its own redis-server and Triton).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from app.services import open_runtime
from app.settings import Settings
from bench.fanout import CONSOLE_WIDTH
from bench.feed_read import PAGE_SIZE, Reader, Scenario, make_dataset
from bench.stats import LatencyStats
from ranking.circuit_breaker import CircuitBreaker
from ranking.fallback_model import FallbackEngagementModel
from ranking.model import HEADS, MODEL_NAME, EngagementModel, Features, Probabilities
from ranking.model_file import SHIPPED_MODEL_PATH
from ranking.onnx_model import OnnxEngagementModel
from ranking.ranker import Ranker
from ranking.triton_endpoint import TritonEndpoint
from ranking.triton_model import TritonEngagementModel
from tests.servers import redis_server, triton_server

WINDOWS = (50, 200, 1_000)
FOLLOWING = 100  # the feed benchmark's smallest scenario: 800 posts in the viewer's feed
WARMUP_CALLS = 20
IDLE_GAPS_SECONDS = (0.0, 0.005, 0.02, 0.06)  # a ranked page takes ~20 ms here
IDLE_GAP_CALLS = 150
BENCH_COST_BUDGET = 10**9  # one viewer reads hundreds of pages a minute here, on purpose
# Generous: a slow call must be counted as Triton's, not served by the fallback.
BENCH_TRITON_TIMEOUT_SECONDS = 5.0


@dataclasses.dataclass
class Measurement(LatencyStats):
    name: str
    latencies: list[float]


class NoModel:
    """The ranked path without a model call: every candidate gets the same probabilities
    (features, surface weights and ordering still run)."""

    async def predict(self, features: Features) -> Probabilities:
        return np.zeros((len(features), len(HEADS)), dtype=np.float32)


async def round_robin(
    calls: dict[str, Callable[[], Awaitable[object]]], rounds: int
) -> list[Measurement]:
    for _ in range(WARMUP_CALLS):
        for call in calls.values():
            await call()
    latencies: dict[str, list[float]] = {name: [] for name in calls}
    gc.collect()
    gc.freeze()
    try:
        for _ in range(rounds):
            for name, call in calls.items():
                started = time.perf_counter()
                await call()
                latencies[name].append(time.perf_counter() - started)
    finally:
        gc.unfreeze()
    return [Measurement(name, values) for name, values in latencies.items()]


def triton_model(url: str, n_features: int) -> TritonEngagementModel:
    return TritonEngagementModel(
        TritonEndpoint.parse(url), n_features, timeout_seconds=BENCH_TRITON_TIMEOUT_SECONDS
    )


async def model_windows(
    urls: dict[str, str], in_process: OnnxEngagementModel, calls: int
) -> dict[int, list[Measurement]]:
    models = {name: triton_model(url, in_process.n_features) for name, url in urls.items()}
    random = np.random.default_rng(0)
    results = {}
    try:
        for rows in WINDOWS:
            features = random.random((rows, in_process.n_features), dtype=np.float32)
            variants: dict[str, Callable[[], Awaitable[object]]] = {
                "in process": functools.partial(in_process.predict, features),
            }
            for name, model in models.items():
                variants[f"Triton {name}"] = functools.partial(model.predict, features)
            results[rows] = await round_robin(variants, calls)
    finally:
        for model in models.values():
            await model.close()
    return results


async def concurrent_throughput(
    urls: dict[str, str], n_features: int, in_flight: int, seconds: float
) -> dict[str, float]:
    """Windows of 200 a second with `in_flight` calls at once, as several pages at a time."""
    features = np.random.default_rng(1).random((200, n_features), dtype=np.float32)
    throughput = {}
    for name, url in urls.items():
        model = triton_model(url, n_features)
        done = 0
        deadline = time.monotonic() + seconds

        async def caller(model: TritonEngagementModel = model, deadline: float = deadline) -> None:
            nonlocal done
            while time.monotonic() < deadline:
                await model.predict(features)
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(caller() for _ in range(in_flight)))
        throughput[name] = done / (time.monotonic() - started)
        await model.close()
    return throughput


async def idle_gaps(url: str, n_features: int, calls: int) -> dict[float, float]:
    """p50 ms of a 200-window call over gRPC after each idle gap (seconds) between calls: a
    page calls Triton once every tens of milliseconds, not back to back."""
    features = np.random.default_rng(2).random((200, n_features), dtype=np.float32)
    model = triton_model(url, n_features)
    results = {}
    try:
        for _ in range(WARMUP_CALLS):
            await model.predict(features)
        for gap in IDLE_GAPS_SECONDS:
            latencies = []
            for _ in range(calls):
                await asyncio.sleep(gap)
                started = time.perf_counter()
                await model.predict(features)
                latencies.append(time.perf_counter() - started)
            results[gap] = statistics.median(latencies) * 1000
    finally:
        await model.close()
    return results


async def feed_pages(
    redis_url: str, urls: dict[str, str], in_process: OnnxEngagementModel, requests: int
) -> tuple[list[Measurement], dict[str, int]]:
    settings = Settings.model_validate(
        {
            "redis_url": redis_url,
            "mongodb_url": os.environ.get("PICTOGRAPH_TEST_MONGODB_URL"),
            "mongodb_database": f"pictograph_bench_{uuid.uuid4().hex[:8]}",
            "cost_budget_per_minute": BENCH_COST_BUDGET,
        }
    )
    async with open_runtime(settings) as runtime:
        services = runtime.services
        await services.redis.flushdb()
        dataset = await make_dataset(services, runtime.database, Scenario(FOLLOWING))
        served = {
            name: FallbackEngagementModel(
                triton_model(url, in_process.n_features),
                in_process,
                CircuitBreaker(),
                timeout_seconds=BENCH_TRITON_TIMEOUT_SECONDS,
            )
            for name, url in urls.items()
        }
        models: dict[str, tuple[EngagementModel, str]] = {
            f"ranked, Triton {name}": (model, "RANKED") for name, model in served.items()
        }
        models["ranked, in process"] = (in_process, "RANKED")
        models["ranked, no model call"] = (NoModel(), "RANKED")
        models["chronological"] = (NoModel(), "CHRONOLOGICAL")
        variants: dict[str, Callable[[], Awaitable[object]]] = {}
        for name, (model, order) in models.items():
            reader = Reader(
                dataclasses.replace(services, ranker=Ranker(model)),
                services.stores,
                dataset.viewer_id,
            )
            variants[name] = functools.partial(reader.read, order)
        try:
            results = await round_robin(variants, requests)
        finally:
            for model in served.values():
                await model.close()
        fallbacks = {name: model.served.fallback.total() for name, model in served.items()}
        return results, fallbacks


@dataclasses.dataclass
class Results:
    windows: dict[int, list[Measurement]]
    throughput: dict[str, float]
    gaps: dict[float, float]
    pages: list[Measurement]
    fallbacks: dict[str, int]
    server_side: dict[str, float]


async def benchmark(calls: int, requests: int, in_flight: int) -> Results:
    in_process = OnnxEngagementModel(SHIPPED_MODEL_PATH)
    with redis_server() as redis_url, triton_server(MODEL_NAME) as triton:
        urls = {"gRPC": triton.grpc_url, "HTTP": triton.http_url}
        windows = await model_windows(urls, in_process, calls)
        throughput = await concurrent_throughput(urls, in_process.n_features, in_flight, 3.0)
        gaps = await idle_gaps(triton.grpc_url, in_process.n_features, IDLE_GAP_CALLS)
        before = triton.statistics()
        pages, fallbacks = await feed_pages(redis_url, urls, in_process, requests)
        server_side = per_request_ms(before, triton.statistics())
    return Results(windows, throughput, gaps, pages, fallbacks, server_side)


def per_request_ms(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    """Triton's own account of where a request's time went, averaged over the requests
    between two snapshots of its statistics: queue (the dynamic batcher), compute_infer
    (here: the Python backend's stub, pytriton's proxy and onnxruntime), and the whole."""
    stages = ("success", "queue", "compute_input", "compute_infer", "compute_output")
    old, new = before["inference_stats"], after["inference_stats"]
    requests = new["success"]["count"] - old["success"]["count"]
    return {
        stage: (new[stage]["ns"] - old[stage]["ns"]) / max(requests, 1) / 1e6 for stage in stages
    } | {"requests": requests}


def report(results: Results, in_flight: int) -> None:
    windows, throughput, pages = results.windows, results.throughput, results.pages
    console = Console(width=CONSOLE_WIDTH)
    table = Table(title="Scoring one window (sequential calls, one at a time)")
    for column in ("candidates", "served by", "p50 ms", "p99 ms", "p50 / in process"):
        table.add_column(column, justify="left" if column == "served by" else "right")
    for rows, measurements in windows.items():
        base = measurements[0].p50_ms
        for m in measurements:
            table.add_row(
                f"{rows:,}", m.name, f"{m.p50_ms:.3f}", f"{m.p99_ms:.3f}", f"{m.p50_ms / base:.0f}x"
            )
    console.print(table)
    rates = Table(title=f"Triton throughput, windows of 200, {in_flight} calls in flight")
    rates.add_column("protocol")
    rates.add_column("windows / s", justify="right")
    for name, rate in throughput.items():
        rates.add_row(name, f"{rate:,.0f}")
    console.print(rates)
    gaps = Table(title="Triton gRPC, window of 200, after an idle gap between calls")
    gaps.add_column("idle gap ms", justify="right")
    gaps.add_column("p50 ms", justify="right")
    for gap, p50 in results.gaps.items():
        gaps.add_row(f"{gap * 1000:.0f}", f"{p50:.2f}")
    console.print(gaps)
    feed = Table(title=f"Feed, first page of {PAGE_SIZE}, window of 200 candidates (warm caches)")
    for column in ("ranking", "p50 ms", "p99 ms", "p50 - no model call", "p50 / no model call"):
        feed.add_column(column, justify="left" if column == "ranking" else "right")
    base = next(m for m in pages if m.name == "ranked, no model call").p50_ms
    for m in pages:
        feed.add_row(
            m.name,
            f"{m.p50_ms:.2f}",
            f"{m.p99_ms:.2f}",
            f"{m.p50_ms - base:+.2f} ms",
            f"{m.p50_ms / base:.2f}x",
        )
    console.print(feed)
    console.print(f"windows served by the fallback during the feed run: {results.fallbacks}")
    server = results.server_side
    console.print(
        f"Triton's statistics over the feed run's {server['requests']:.0f} requests, per request: "
        + ", ".join(f"{stage} {ms:.3f} ms" for stage, ms in server.items() if stage != "requests")
    )
    console.print(
        "median of in-process p50s over windows: "
        f"{statistics.median(m[0].p50_ms for m in windows.values()):.3f} ms"
    )


def main(
    calls: Annotated[int, typer.Option(help="Measured calls per window and path.")] = 500,
    requests: Annotated[int, typer.Option(help="Measured feed pages per variant.")] = 200,
    in_flight: Annotated[int, typer.Option(help="Concurrent calls for throughput.")] = 8,
) -> None:
    report(asyncio.run(benchmark(calls, requests, in_flight)), in_flight)


if __name__ == "__main__":
    typer.run(main)
