"""How fast each hostile shape is refused, and what the whole hostile run leaves in memory.

Starts `pictograph serve` (embedded backends) in a process of its own, warms it with a few
ordinary requests, reads its RSS, then sends every shape of `tests/hostile.py`
(HOSTILE_SHAPES: add a shape there and both the tests and this benchmark send it)
`--repeat` times, one request at a time, plus `--cache-documents` distinct documents just
under the document limit (what the parser cache used to keep: twenty 10 MB documents
pinned +396 MB). It prints p50 and p99 of the refusal latency per shape (client side, from
the first byte sent to the status line) and the server's RSS before and after the run.
Targets (issue 10): every shape under 100 ms at p99; RSS after within 50 MB of before.

Run: `.venv/bin/python -m bench.hostile` (Linux: RSS from /proc; about a minute).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table

from bench.fanout import CONSOLE_WIDTH
from schema.documents import MAX_DOCUMENT_CHARACTERS
from tests.hostile import HOSTILE_SHAPES, HostileShape, prepare
from tests.servers import free_port

P99_TARGET_MS = 100.0
RSS_TARGET_MB = 50.0
STARTUP_SECONDS = 60
WARM_REQUESTS = 50


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def start_server(port: int, directory: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "PICTOGRAPH_PORT": str(port),
        "PICTOGRAPH_MEDIA_DIR": os.path.join(directory, "media"),
    }
    for name in ("MONGODB_URL", "REDIS_URL", "S3_ENDPOINT_URL"):
        environment.pop(f"PICTOGRAPH_{name}", None)  # the embedded backends
    command = [sys.executable, "-c", "from app.cli import cli; cli()", "serve"]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)


async def wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient(base_url=url) as http:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start")


async def warm(http: httpx.AsyncClient) -> None:
    for _ in range(WARM_REQUESTS):
        await http.post("/graphql", json={"query": "{ __typename }"})


async def timed(shape: HostileShape, http: httpx.AsyncClient, repeat: int) -> list[float]:
    latencies = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = await shape.send(http)
        latencies.append((time.perf_counter() - start) * 1000)
        if answer.status != shape.status:
            raise AssertionError(f"{shape.name}: {answer.status}, not {shape.status}")
        if shape.code is not None and f'"code":"{shape.code}"' not in answer.body:
            raise AssertionError(f"{shape.name}: {answer.body[:200]}, not {shape.code}")
    return latencies


async def distinct_large_documents(http: httpx.AsyncClient, count: int) -> list[float]:
    """Documents just under the character limit, each different: each is parsed and kept
    in the document cache until its byte budget evicts it."""
    latencies = []
    for n in range(count):
        query = (f"{{ __typename }} #{n:08d}" + "x" * MAX_DOCUMENT_CHARACTERS)[
            :MAX_DOCUMENT_CHARACTERS
        ]
        start = time.perf_counter()
        response = await http.post("/graphql", json={"query": query})
        latencies.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(repeat: int, cache_documents: int, directory: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, directory)
    try:
        await wait_for(url, server)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await prepare(http)
            await warm(http)
            before = rss_mb(server.pid)
            results = [
                (shape.name, await timed(shape, http, repeat), True) for shape in HOSTILE_SHAPES
            ]
            results.append(
                (
                    f"{cache_documents} distinct {MAX_DOCUMENT_CHARACTERS:,}-character documents",
                    await distinct_large_documents(http, cache_documents),
                    False,  # accepted: they are there for the memory they would pin
                )
            )
            after = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    report(results, before, after, repeat)


def report(
    results: list[tuple[str, list[float], bool]], before: float, after: float, repeat: int
) -> None:
    console = Console(width=CONSOLE_WIDTH)
    table = Table(title=f"Hostile shapes: {repeat} requests each, one at a time")
    for column in ("shape", "p50 ms", "p99 ms", "max ms", f"p99 < {P99_TARGET_MS:.0f} ms"):
        table.add_column(column, justify="left" if column == "shape" else "right")
    for name, latencies, refused in results:
        p99 = percentile(latencies, 0.99)
        verdict = ("yes" if p99 < P99_TARGET_MS else "NO") if refused else "accepted"
        table.add_row(
            name,
            f"{statistics.median(latencies):.1f}",
            f"{p99:.1f}",
            f"{max(latencies):.1f}",
            verdict,
        )
    console.print(table)
    growth = after - before
    verdict = "within" if growth <= RSS_TARGET_MB else "NOT within"
    console.print(
        f"server RSS: {before:.0f} MB before, {after:.0f} MB after the hostile run "
        f"({growth:+.0f} MB: {verdict} the {RSS_TARGET_MB:.0f} MB target)"
    )


def main(
    repeat: int = typer.Option(50, help="Requests per shape."),
    cache_documents: int = typer.Option(200, help="Distinct large documents sent."),
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(run(repeat, cache_documents, directory))


if __name__ == "__main__":
    typer.run(main)
