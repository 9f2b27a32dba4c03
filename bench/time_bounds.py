"""/healthz latency while the costliest accepted request runs, and how fast the limits refuse.

The app runs in a process of its own (uvicorn, embedded MongoDB, a real redis-server) with
the follow graph of tests/follower_graph.py; this process is the client. Three phases:

- idle: /healthz alone, one request after another;
- loaded: the worst accepted request (4,803 points, 100 x 22 users) sent over and over by
  `--concurrency` clients while /healthz is polled;
- refusals: the issue's attack query (cost), its fragment bomb (expansion) and the worst
  accepted request's twin one page over the limit, each timed to its refusal.

    .venv/bin/python -m bench.time_bounds [--seconds 20] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.stats import LatencyStats

GRAPH_READY_PATH = "graph-ready"


@dataclass
class Latencies(LatencyStats):
    name: str
    latencies: list[float] = field(default_factory=list)


def _serve(port: int, redis_url: str, directory: str) -> None:
    """The child process: the app with its graph, until killed."""
    import uvicorn

    from app.main import create_app
    from tests.conftest import make_settings
    from tests.follower_graph import make_follower_graph

    settings = make_settings(
        redis_url,
        port=port,
        media_dir=os.path.join(directory, "media"),
        cost_budget_per_minute=10_000_000,  # the benchmark measures time, not the budget
    )
    app = create_app(settings)

    async def main() -> None:
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await asyncio.sleep(0.05)
        graph = await make_follower_graph(app.state.runtime.services)
        ready = Path(directory) / GRAPH_READY_PATH
        await asyncio.to_thread(ready.write_text, graph.star.username)
        await task

    asyncio.run(main())


async def _timed(client: httpx.AsyncClient, method: str, path: str, **kwargs: object) -> float:
    started = time.perf_counter()
    response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


async def _measure(url: str, star: str, seconds: float, concurrency: int) -> list[Latencies]:
    from tests.follower_graph import WORST_ACCEPTED_QUERY
    from tests.integration.test_query_cost import ATTACK
    from tests.integration.test_time_bounds import fragment_bomb

    idle, loaded = Latencies("/healthz, idle"), Latencies("/healthz, during the worst request")
    worst = Latencies("worst accepted request (4,803 points)")
    refusals = {
        "refused: the issue's attack (cost)": ATTACK % star,
        "refused: the fragment bomb (expansion)": fragment_bomb(20),
        "refused: the worst request, one page over": WORST_ACCEPTED_QUERY.replace(
            "first: 22", "first: 23"
        ),
    }
    refused = {name: Latencies(name) for name in refusals}
    worst_body = {"query": WORST_ACCEPTED_QUERY, "variables": {"username": star}}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for _ in range(500):
            idle.latencies.append(await _timed(client, "GET", "/healthz"))
        stop = time.perf_counter() + seconds

        async def load() -> None:
            while time.perf_counter() < stop:
                worst.latencies.append(await _timed(client, "POST", "/graphql", json=worst_body))

        loaders = [asyncio.create_task(load()) for _ in range(concurrency)]
        while time.perf_counter() < stop:
            loaded.latencies.append(await _timed(client, "GET", "/healthz"))
            await asyncio.sleep(0.005)  # a load balancer's probe, not a flood
        await asyncio.gather(*loaders)
        for name, query in refusals.items():
            for _ in range(200):
                refused[name].latencies.append(
                    await _timed(client, "POST", "/graphql", json={"query": query})
                )
    return [idle, loaded, worst, *refused.values()]


def main() -> None:
    from tests.servers import free_port, redis_server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=1)
    arguments = parser.parse_args()
    port = free_port()
    with redis_server() as redis_url, tempfile.TemporaryDirectory() as directory:
        server = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(port, redis_url, directory), daemon=True
        )
        server.start()
        try:
            ready = os.path.join(directory, GRAPH_READY_PATH)
            while not os.path.exists(ready) or os.path.getsize(ready) == 0:
                if not server.is_alive():
                    raise SystemExit("the app process died")
                time.sleep(0.1)
            with open(ready) as file:
                star = file.read()
            results = asyncio.run(
                _measure(f"http://127.0.0.1:{port}", star, arguments.seconds, arguments.concurrency)
            )
        finally:
            server.kill()
            server.join()
    print(f"| what | requests | p50 ms | p99 ms | max ms |  (concurrency {arguments.concurrency})")
    print("|---|---:|---:|---:|---:|")
    for result in results:
        print(
            f"| {result.name} | {len(result.latencies)} | {result.p50_ms:.1f} | "
            f"{result.p99_ms:.1f} | {max(result.latencies) * 1000:.1f} |"
        )


if __name__ == "__main__":
    main()
