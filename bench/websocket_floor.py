"""The floor under realtime delivery: how long this machine takes to push one small message
to N WebSockets of one uvicorn process, with no GraphQL, no checks and no bus at all.

`bench.delivery` measures the real path (a like's mutation to `postLiked` on N sockets:
per receiver, a permission check and the subscription's selection set executed, about
1 ms of server CPU each). This measures what would be left if all of that were shared
by every receiver of an event (one check batch, one execution, one encoded payload): the
server holds N accepted sockets (uvicorn configured as `pictograph serve` configures it:
same message bound, no permessage-deflate) and, on one HTTP request, sends one pre-encoded
graphql-transport-ws `next` message of the size `postLiked` pushes to each of them in one
loop. The clients (websockets' asyncio client) are another process, which also sends the
request and times each receipt from just before it (CLOCK_MONOTONIC, shared by every
process on the machine).

    .venv/bin/python -m bench.websocket_floor   # --sizes 100 1000 5000 --events 20
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from dataclasses import dataclass
from typing import Annotated

import httpx
import orjson
import typer
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect

from app.server import MAX_WEBSOCKET_MESSAGE_BYTES, WEBSOCKET_COMPRESSION
from bench.delivery_server import raise_open_files_limit
from bench.stats import LatencyStats
from tests.servers import free_port

# What `postLiked` pushes for the contract's selection, as strawberry frames it.
MESSAGE = orjson.dumps(
    {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {
                "postLiked": {
                    "post": {"id": "UG9zdDoyNDI2Mjk2MjE0MDc4MDk1MzY=", "likeCount": 1234},
                    "user": {"id": "VXNlcjoyNDI2Mjk2MjE0MDc4MDk1MzY=", "username": "ada"},
                }
            }
        },
    }
).decode()
CONNECT_CONCURRENCY = 50  # handshakes at once: as many as the server accepts without stalling
STARTUP_SECONDS = 30.0
RECEIPT_GIVE_UP_SECONDS = 60.0


@dataclass
class Pushes(LatencyStats):
    latencies: list[float]  # seconds, from just before the request to each receipt
    loops: list[float]  # seconds the server's send loop took, one per push

    @property
    def loop_p50_ms(self) -> float:
        return statistics.median(self.loops) * 1_000


def _server_app() -> Starlette:
    sockets: set[WebSocket] = set()

    async def hold(websocket: WebSocket) -> None:
        await websocket.accept()
        sockets.add(websocket)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)

    async def fan_out(request: Request) -> Response:
        """Sends to every socket; answers how long the loop took, in seconds."""
        started = time.monotonic()
        for websocket in list(sockets):
            await websocket.send_text(MESSAGE)
        return Response(str(time.monotonic() - started))

    async def count(request: Request) -> Response:  # sockets held
        return Response(str(len(sockets)))

    return Starlette(
        routes=[
            WebSocketRoute("/ws", hold),
            Route("/fanout", fan_out, methods=["POST"]),
            Route("/count", count),
        ]
    )


def _serve(port: int) -> None:
    raise_open_files_limit()
    config = uvicorn.Config(
        _server_app(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws_max_size=MAX_WEBSOCKET_MESSAGE_BYTES,
        ws_per_message_deflate=WEBSOCKET_COMPRESSION,
    )
    uvicorn.Server(config).run()


async def _receive_times(sockets: list[ClientConnection]) -> list[float]:
    async def one(websocket: ClientConnection) -> float:
        await asyncio.wait_for(websocket.recv(), RECEIPT_GIVE_UP_SECONDS)
        return time.monotonic()

    return await asyncio.gather(*(one(websocket) for websocket in sockets))


async def _measure(port: int, size: int, events: int) -> Pushes:
    base = f"http://127.0.0.1:{port}"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one() -> ClientConnection:
        async with gate:
            return await connect(f"ws://127.0.0.1:{port}/ws", compression=None)

    sockets = await asyncio.gather(*(open_one() for _ in range(size)))
    latencies: list[float] = []
    loops: list[float] = []
    async with httpx.AsyncClient(base_url=base) as http:
        while int((await http.get("/count")).text) < size:  # noqa: ASYNC110 (a server's count)
            await asyncio.sleep(0.05)
        for _ in range(events):
            receipts = asyncio.ensure_future(_receive_times(sockets))
            await asyncio.sleep(0)  # every socket is waiting before the request leaves
            sent = time.monotonic()
            loops.append(float((await http.post("/fanout")).text))
            latencies += [received - sent for received in await receipts]
    await asyncio.gather(*(websocket.close() for websocket in sockets))
    return Pushes(latencies, loops)


async def _wait_for(port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient() as http:
        while True:
            try:
                await http.get(f"http://127.0.0.1:{port}/count")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


def main(
    sizes: Annotated[list[int] | None, typer.Option(help="Sockets.")] = None,
    events: Annotated[int, typer.Option(min=2)] = 20,
) -> None:
    raise_open_files_limit()
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,))
    server.start()
    try:
        asyncio.run(_wait_for(port))
        for size in sizes or [100, 1_000, 5_000]:
            stats = asyncio.run(_measure(port, size, events))
            print(
                f"{size:>5} sockets: p50 {stats.p50_ms:.1f} ms, p99 {stats.p99_ms:.1f} ms, "
                f"max {max(stats.latencies) * 1_000:.1f} ms; the server's send loop "
                f"p50 {stats.loop_p50_ms:.1f} ms ({events} pushes each)"
            )
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    typer.run(main)
