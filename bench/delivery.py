"""Realtime delivery: from a like's mutation to its `postLiked` push on N subscribed
WebSockets of one post, and what an idle subscribed socket costs the server (issue 11).

The server is `bench/delivery_server.py` (the app and uvicorn configuration `pictograph
serve` runs) in a process of its own, with the bus and the cache on a real `redis-server`
this benchmark starts (PICTOGRAPH_BROADCAST_URL, PICTOGRAPH_REDIS_URL), MongoDB embedded,
and no job worker in it: as in production, where workers are processes of their own, the
jobs a like enqueues wait in the stream (embedded MongoDB cannot be shared with a worker
process). The clients are `--workers` processes of their own (websockets' asyncio client
on uvloop, as the server runs, graphql-transport-ws:
connection_init with the token, then the contract's `PostLiked`), one socket per
subscriber account, each account a different viewer. This process is the actor: it sends
the contract's `LikePost` over HTTP, one like at a time, and times each delivery from just
before the request is sent to the receipt of its `next` on each socket (CLOCK_MONOTONIC,
which every process on the machine shares), so the latency includes the mutation. Between
two likes the liker unlikes, untimed (an unlike pushes nothing). Sockets are opened in
steps (1, then up to 100, ...) and stay open, so each step's memory is the server's RSS
with that many idle subscribed sockets, less its RSS before the first.

    .venv/bin/python -m bench.delivery   # --sizes 1 100 1000 5000 --events 20 --workers 2
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer
import uvloop
from bson import json_util
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect

from app.websocket_sessions import MAX_UNACKNOWLEDGED_SOCKETS_PER_CLIENT
from bench.delivery_server import raise_open_files_limit
from bench.fanout import CONSOLE_WIDTH
from bench.hostile import rss_mb
from bench.stats import LatencyStats
from tests.conftest import TEST_MONGODB_URL_VARIABLE
from tests.contract import operation_source
from tests.servers import free_port, redis_server
from tests.ws import GRAPHQL_TRANSPORT_WS, ws_url

P99_TARGET_MS = 50.0  # at 1,000 subscribers of one event on one process
MEMORY_TARGET_KB = 50.0  # per idle subscribed connection
STARTUP_SECONDS = 300  # seeding 5,000 accounts into mongomock takes a while
DELIVERY_GIVE_UP_SECONDS = 30.0
WARM_UP_ATTEMPTS = 30
# How long a warm-up like waits for its pushes: a fan-out here costs about a millisecond of
# the server per socket, so 5,000 sockets take seconds.
WARM_UP_SECONDS_PER_SOCKET = 0.003
SETTLE_SECONDS = 1.0  # after the last socket's first push, before RSS is read
POLL_SECONDS = 0.002  # how often the actor looks at the workers' delivery counters
LIKERS = 8  # likes round-robin over these, so no viewer nears its mutation limit
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Deliveries(LatencyStats):
    """One size's measured events: every (event, receiver) delivery's latency, seconds."""

    subscribers: int
    latencies: list[float] = field(default_factory=list)
    event_seconds: list[float] = field(default_factory=list)  # like sent -> last delivery
    missing: int = 0
    server_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    memory_kb_per_socket: float | None = None
    load_average: float = 0.0

    @property
    def deliveries_per_second(self) -> float:
        """Deliveries of one event per second of its fan-out (median over the events)."""
        return statistics.median(self.subscribers / seconds for seconds in self.event_seconds)

    @property
    def deliveries_per_cpu_second(self) -> float:
        """Deliveries per second of the server's CPU (the like and its unlike included)."""
        total = self.subscribers * len(self.event_seconds)
        return total / self.server_cpu_seconds if self.server_cpu_seconds else float("nan")


# --- the client processes -----------------------------------------------------------------


class _Subscriber:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.pushed = False


async def _worker(
    commands: Connection,
    delivered: Synchronized[int],
    first_pushes: Synchronized[int],
    current_event: Synchronized[int],
    errors: Synchronized[int],
    handshakes_at_once: int,
    compression: bool,
) -> None:
    receipts: list[tuple[int, float]] = []
    subscribers: list[_Subscriber] = []
    readers: list[asyncio.Task[None]] = []
    handshakes = asyncio.Semaphore(handshakes_at_once)
    query = operation_source("PostLiked")

    async def read(subscriber: _Subscriber) -> None:
        with suppress(Exception):
            async for message in subscriber.socket:
                received = time.monotonic()
                document = orjson.loads(message)
                if document.get("type") != "next" or "errors" in document["payload"]:
                    errors.value += 1
                    continue
                receipts.append((current_event.value, received))
                delivered.value += 1
                if not subscriber.pushed:
                    subscriber.pushed = True
                    first_pushes.value += 1

    async def open_one(url: str, token: str, post_id: str) -> None:
        async with handshakes:  # the server caps unacknowledged sockets per address
            socket = await connect(
                ws_url(url),
                subprotocols=[GRAPHQL_TRANSPORT_WS],
                compression="deflate" if compression else None,
                ping_interval=None,  # uvicorn pings every socket itself (every 20 s)
                open_timeout=60,
                max_queue=None,
            )
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            await socket.send(orjson.dumps(init).decode())
            ack = orjson.loads(await socket.recv())
            assert ack["type"] == "connection_ack", ack
        payload = {"query": query, "variables": {"postId": post_id}}
        await socket.send(
            orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}).decode()
        )
        subscriber = _Subscriber(socket)
        subscribers.append(subscriber)
        readers.append(asyncio.create_task(read(subscriber)))

    while True:
        command, *arguments = await asyncio.to_thread(commands.recv)
        if command == "open":
            url, tokens, post_id = arguments
            await asyncio.gather(*(open_one(url, token, post_id) for token in tokens))
            commands.send(len(subscribers))
        elif command == "receipts":
            commands.send(receipts)
            receipts = []
        elif command == "close":
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*(s.socket.close() for s in subscribers), return_exceptions=True)
            await asyncio.gather(*readers, return_exceptions=True)
            subscribers.clear()
            readers.clear()
            first_pushes.value = 0
            commands.send(0)
        elif command == "stop":
            return


def _worker_process(*arguments: Any) -> None:
    raise_open_files_limit()
    uvloop.run(_worker(*arguments))  # as the server runs: the clients are the instrument


@dataclass
class Worker:
    process: multiprocessing.process.BaseProcess
    commands: Connection
    delivered: Synchronized[int]
    first_pushes: Synchronized[int]
    errors: Synchronized[int]

    async def ask(self, *command: Any) -> Any:
        self.commands.send(command)
        return await asyncio.to_thread(self.commands.recv)


class Clients:
    """The worker processes holding the sockets; socket i belongs to worker i % workers."""

    def __init__(self, workers: int, current_event: Synchronized[int], compression: bool):
        context = multiprocessing.get_context("spawn")
        self.workers: list[Worker] = []
        for _ in range(workers):
            ours, theirs = context.Pipe()
            delivered, first, errors = (context.Value("q", 0, lock=False) for _ in range(3))
            process = context.Process(
                target=_worker_process,
                args=(theirs, delivered, first, current_event, errors,
                      MAX_UNACKNOWLEDGED_SOCKETS_PER_CLIENT // workers, compression),
                daemon=True,
            )  # fmt: skip
            process.start()
            self.workers.append(Worker(process, ours, delivered, first, errors))
        self.sockets = 0

    async def open(self, url: str, tokens: Sequence[str], post_id: str) -> None:
        count = len(self.workers)
        shares = [list(tokens[i::count]) for i in range(count)]
        await asyncio.gather(
            *(
                w.ask("open", url, share, post_id)
                for w, share in zip(self.workers, shares, strict=True)
            )
        )
        self.sockets += len(tokens)

    async def close(self) -> None:
        await asyncio.gather(*(w.ask("close") for w in self.workers))
        self.sockets = 0

    async def receipts(self) -> list[tuple[int, float]]:
        shares = await asyncio.gather(*(w.ask("receipts") for w in self.workers))
        return [receipt for share in shares for receipt in share]

    def delivered(self) -> int:
        return sum(w.delivered.value for w in self.workers)

    def first_pushes(self) -> int:
        return sum(w.first_pushes.value for w in self.workers)

    def errors(self) -> int:
        return sum(w.errors.value for w in self.workers)

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(w.process.pid) for w in self.workers if w.process.pid)

    def stop(self) -> None:
        for w in self.workers:
            with suppress(Exception):
                w.commands.send(("stop",))
            w.process.join(timeout=10)
            if w.process.is_alive():
                w.process.terminate()


# --- the actor ---------------------------------------------------------------------------


class Actor:
    def __init__(self, http: httpx.AsyncClient, post_id: str, likers: list[str]) -> None:
        self._http = http
        self._post_id = post_id
        self._likers = likers
        self._turn = 0
        self._like = operation_source("LikePost")
        self._unlike = operation_source("UnlikePost")

    async def _run(self, url: str, query: str, token: str) -> None:
        response = await self._http.post(
            f"{url}/graphql",
            json={"query": query, "variables": {"postId": self._post_id}},
            headers={"authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        body = response.json()
        payload = next(iter(body["data"].values()))
        if body.get("errors") or payload["errors"]:
            raise RuntimeError(f"the like was refused: {body}")

    async def like(self, url: str) -> str:
        token = self._likers[self._turn % len(self._likers)]
        self._turn += 1
        await self._run(url, self._like, token)
        return token

    async def unlike(self, url: str, token: str) -> None:
        await self._run(url, self._unlike, token)


async def _until(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(POLL_SECONDS)
    return True


async def warm_up(clients: Clients, actor: Actor, actor_url: str) -> None:
    """Likes until every socket has been pushed one: the protocol never says when a
    subscription has reached the bus, and an event before that is not its to receive."""
    for _ in range(WARM_UP_ATTEMPTS):
        token = await actor.like(actor_url)
        waited = max(2.0, clients.sockets * WARM_UP_SECONDS_PER_SOCKET)
        reached = await _until(lambda: clients.first_pushes() >= clients.sockets, waited)
        await actor.unlike(actor_url, token)
        if reached:
            await asyncio.sleep(SETTLE_SECONDS)
            return
    raise RuntimeError(f"only {clients.first_pushes()} of {clients.sockets} sockets subscribed")


async def measure_events(
    clients: Clients,
    actor: Actor,
    actor_url: str,
    current_event: Synchronized[int],
    events: int,
    server_pid: int,
) -> Deliveries:
    result = Deliveries(clients.sockets)
    sent: list[float] = []
    for event in range(events):
        current_event.value = event
        target = clients.delivered() + clients.sockets
        server_cpu, client_cpu = cpu_seconds(server_pid), clients.cpu_seconds()
        started = time.monotonic()
        token = await actor.like(actor_url)
        done = await _until(
            lambda target=target: clients.delivered() >= target,
            DELIVERY_GIVE_UP_SECONDS,
        )
        result.server_cpu_seconds += cpu_seconds(server_pid) - server_cpu
        result.client_cpu_seconds += clients.cpu_seconds() - client_cpu
        sent.append(started)
        if not done:
            result.missing += target - clients.delivered()
        current_event.value = -1  # what arrives from now on is not this event's
        await actor.unlike(actor_url, token)
    await asyncio.sleep(0.2)
    last: dict[int, float] = {}
    for event, received in await clients.receipts():
        if event >= 0:
            result.latencies.append(received - sent[event])
            last[event] = max(last.get(event, 0.0), received)
    result.event_seconds = [last[event] - sent[event] for event in sorted(last)]
    result.load_average = os.getloadavg()[0]
    return result


# --- the servers -------------------------------------------------------------------------


def start_server(
    port: int, directory: str, bus_url: str, *arguments: str
) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "PICTOGRAPH_MEDIA_DIR": os.path.join(directory, f"media-{port}"),
        # Redis as production has it, for the bus and the cache: the embedded cache
        # (fakeredis) costs the server's CPU for what a redis-server does elsewhere.
        "PICTOGRAPH_BROADCAST_URL": bus_url,
        "PICTOGRAPH_REDIS_URL": bus_url,
        "PICTOGRAPH_FANOUT_IN_SERVER": "false",  # workers are processes of their own
    }
    for name in ("MONGODB_URL", "S3_ENDPOINT_URL"):
        environment.pop(f"PICTOGRAPH_{name}", None)  # the embedded backends
    if mongodb_url := os.environ.get(TEST_MONGODB_URL_VARIABLE):
        # One real MongoDB for both servers (a database of this run's own): the second
        # reads what the first seeded instead of a copy.
        environment["PICTOGRAPH_MONGODB_URL"] = mongodb_url
        environment["PICTOGRAPH_MONGODB_DATABASE"] = Path(directory).name
    command = [sys.executable, "-m", "bench.delivery_server", "--port", str(port), *arguments]
    return subprocess.Popen(command, env=environment)


def shares_mongodb() -> bool:
    return bool(os.environ.get(TEST_MONGODB_URL_VARIABLE))


async def wait_ready(url: str, server: subprocess.Popen[bytes], seeded: Path | None) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}")
            with suppress(httpx.TransportError):
                ready = (await http.get(f"{url}/readyz")).status_code == 200
                if ready and (seeded is None or await asyncio.to_thread(seeded.exists)):
                    return
            await asyncio.sleep(0.5)
    raise RuntimeError("the server did not start")


async def run(
    sizes: list[int], cross_sizes: list[int], events: int, workers: int, compression: bool
) -> tuple[list[Deliveries], list[Deliveries], tuple[int, int]]:
    limits = raise_open_files_limit()
    current_event: Synchronized[int] = multiprocessing.get_context("spawn").Value(
        "q", -1, lock=False
    )
    subscribers = max([*sizes, *cross_sizes])
    with tempfile.TemporaryDirectory() as directory, redis_server() as bus_url:
        seed_file = Path(directory) / "seed.json"
        port_a, port_b = free_port(), free_port()
        url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        servers: list[subprocess.Popen[bytes]] = []
        clients = Clients(workers, current_event, compression)
        try:
            async with AsyncExitStack() as stack:
                http = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
                server_a = start_server(
                    port_a, directory, bus_url, "--subscribers", str(subscribers),
                    "--likers", str(LIKERS), "--seed-out", str(seed_file),
                )  # fmt: skip
                servers.append(server_a)
                await wait_ready(url_a, server_a, seed_file)
                seed = json_util.loads(seed_file.read_text())
                tokens: list[str] = seed["subscribers"]
                actor = Actor(http, seed["post_id"], seed["likers"])
                await warm_requests(actor, url_a)
                one_process = await sized_runs(
                    clients, actor, url_a, url_a, tokens, sizes, events, current_event, server_a.pid
                )
                await clients.close()
                copy = [] if shares_mongodb() else ["--seed-from", str(seed_file)]
                server_b = start_server(port_b, directory, bus_url, *copy)
                servers.append(server_b)
                await wait_ready(url_b, server_b, None)
                across = await sized_runs(
                    clients, actor, url_b, url_a, tokens, cross_sizes, events, current_event,
                    server_b.pid,
                )  # fmt: skip
        finally:
            clients.stop()
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    return one_process, across, limits


async def warm_requests(actor: Actor, url: str) -> None:
    for _ in range(5):
        await actor.unlike(url, await actor.like(url))


async def sized_runs(
    clients: Clients,
    actor: Actor,
    subscriber_url: str,
    actor_url: str,
    tokens: list[str],
    sizes: list[int],
    events: int,
    current_event: Synchronized[int],
    server_pid: int,
) -> list[Deliveries]:
    """Each size in turn: open sockets up to it on `subscriber_url`, like on `actor_url`."""
    results = []
    baseline = rss_mb(server_pid)
    for size in sorted(sizes):
        await clients.open(subscriber_url, tokens[clients.sockets : size], actor._post_id)
        await warm_up(clients, actor, actor_url)
        memory_kb = (rss_mb(server_pid) - baseline) * 1024 / size
        result = await measure_events(clients, actor, actor_url, current_event, events, server_pid)
        result.memory_kb_per_socket = memory_kb
        if clients.errors():
            raise RuntimeError(f"{clients.errors()} pushes were errors")
        results.append(result)
        print(f"{size} subscribers: p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms")
    return results


def report(title: str, results: list[Deliveries]) -> None:
    table = Table(title=title)
    for column in (
        "subscribers", "deliveries", "missing", "p50 ms", "p99 ms", "max ms",
        "deliveries/s", "deliveries/server CPU s", "client CPU / wall", "KB/socket", "load",
    ):  # fmt: skip
        table.add_column(column, justify="right")
    for r in results:
        wall = sum(r.event_seconds)
        table.add_row(
            f"{r.subscribers:,}",
            f"{len(r.latencies):,}",
            str(r.missing),
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}" if len(r.latencies) > 1 else "",
            f"{max(r.latencies) * 1000:.1f}",
            f"{r.deliveries_per_second:,.0f}",
            f"{r.deliveries_per_cpu_second:,.0f}",
            f"{r.client_cpu_seconds / wall:.2f}" if wall else "",
            "" if r.memory_kb_per_socket is None else f"{r.memory_kb_per_socket:.1f}",
            f"{r.load_average:.2f}",
        )
    Console(width=CONSOLE_WIDTH).print(table)


def main(
    sizes: Annotated[list[int] | None, typer.Option(help="Sockets on one process.")] = None,
    cross_sizes: Annotated[
        list[int] | None, typer.Option(help="Sockets on the second process.")
    ] = None,
    events: Annotated[int, typer.Option(min=2)] = 20,
    workers: Annotated[int, typer.Option(min=1, help="Client processes.")] = 2,
    compression: Annotated[
        bool, typer.Option(help="Offer permessage-deflate, as browsers do.")
    ] = True,
) -> None:
    one_process, across, (soft, hard) = asyncio.run(
        run(sizes or [1, 100, 1000, 5000], cross_sizes or [1, 1000], events, workers, compression)
    )
    print(f"RLIMIT_NOFILE was {soft} (hard {hard}); raised to {hard} in every process")
    report("One server process: the like and the sockets on it", one_process)
    report("Across two server processes: liked on A, sockets on B", across)


if __name__ == "__main__":
    typer.run(main)
