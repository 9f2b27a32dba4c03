"""Slow and idle clients are cut off: a request's headers and body each have a deadline
(the HTTP protocol of app/http_protocol.py, as `pictograph serve` runs it), a WebSocket
must send connection_init in time, and one address may hold only so many sockets that have
not. The server here has deadlines of a fraction of a second; production's are seconds."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.websocket_sessions import MAX_UNACKNOWLEDGED_SOCKETS_PER_CLIENT
from tests.conftest import serve
from tests.servers import redis_server

DEADLINE_SECONDS = 0.5
GIVE_UP_SECONDS = 10.0  # how long a test waits for the server before it fails
TRICKLE_SECONDS = 0.1  # a slow client's pause between bytes
CONNECTION_INIT_TIMEOUT = 4408  # graphql-transport-ws
TOO_MANY_REQUESTS = 4429
GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")


@pytest.fixture(scope="module")
async def slow_client_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A server whose receipt and connection_init deadlines are DEADLINE_SECONDS."""
    settings: dict[str, object] = {
        "request_headers_timeout_seconds": DEADLINE_SECONDS,
        "request_body_timeout_seconds": DEADLINE_SECONDS,
        "connection_init_timeout_seconds": DEADLINE_SECONDS,
    }
    with redis_server() as redis_url:
        async with serve(settings, redis_url, str(tmp_path_factory.mktemp("slow"))) as url:
            yield url


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


async def trickle(writer: asyncio.StreamWriter, pieces: list[bytes]) -> None:
    """Send `pieces` one at a time with a pause between, until done or cut off."""
    with contextlib.suppress(ConnectionError):
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(TRICKLE_SECONDS)


async def what_the_server_answers(url: str, head: bytes, pieces: list[bytes]) -> bytes:
    """Send `head` at once and then `pieces` slowly; everything the server sent before it
    closed the connection."""
    reader, writer = await asyncio.open_connection(*address(url))
    sender = asyncio.create_task(trickle(writer, [head, *pieces]))
    try:
        return await asyncio.wait_for(reader.read(), GIVE_UP_SECONDS)
    finally:
        sender.cancel()
        writer.close()


def endless(piece: bytes) -> list[bytes]:
    """More pieces than a trickle can send before the test gives up."""
    return [piece] * int(GIVE_UP_SECONDS / TRICKLE_SECONDS * 2)


async def test_headers_sent_a_few_bytes_at_a_time_are_cut_off_with_408(
    slow_client_server: str,
) -> None:
    # Given a client that starts a request and then sends a header line every 0.1 s
    head = b"POST /graphql HTTP/1.1\r\nHost: localhost\r\n"
    # When it keeps going past the deadline
    answer = await what_the_server_answers(slow_client_server, head, endless(b"X-Slow: 1\r\n"))
    # Then the server answers 408 and closes the connection (read() returned)
    assert answer.startswith(b"HTTP/1.1 408 "), answer


async def test_a_body_sent_a_byte_at_a_time_is_cut_off_with_408(slow_client_server: str) -> None:
    # Given a request whose headers arrive at once and announce a body of 10,000 bytes
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10000\r\n\r\n"
    )
    # When the body comes a byte every 0.1 s
    answer = await what_the_server_answers(slow_client_server, head, endless(b" "))
    # Then the server answers 408 and closes the connection
    assert answer.startswith(b"HTTP/1.1 408 "), answer


async def test_a_connection_that_sends_nothing_is_closed(slow_client_server: str) -> None:
    answer = await what_the_server_answers(slow_client_server, b"", [])

    assert answer.startswith(b"HTTP/1.1 408 "), answer


async def answer_to(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bytes:
    """The head of the response to `request` (its body read and set aside)."""
    writer.write(request)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GIVE_UP_SECONDS)
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.startswith(b"content-length")
    )
    await asyncio.wait_for(reader.readexactly(length), GIVE_UP_SECONDS)
    return head


async def test_the_deadline_starts_anew_with_each_request_on_a_kept_alive_connection(
    slow_client_server: str,
) -> None:
    # Given a connection on which a first request was answered
    reader, writer = await asyncio.open_connection(*address(slow_client_server))
    request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
    try:
        first = await answer_to(reader, writer, request)
        # When the next request comes after an idle time longer than the deadline (within
        # uvicorn's keep-alive time)
        await asyncio.sleep(DEADLINE_SECONDS * 2)
        second = await answer_to(reader, writer, request)
    finally:
        writer.close()
    # Then it is answered too: the deadline is for receiving a request, not for idling
    assert first.startswith(b"HTTP/1.1 200 ") and second.startswith(b"HTTP/1.1 200 ")


def ws_url(url: str) -> str:
    return f"{url.replace('http://', 'ws://', 1)}/graphql"


async def close_code(websocket: ClientConnection) -> int | None:
    """Wait for the server to close the socket; its close code."""
    try:
        await asyncio.wait_for(websocket.recv(), GIVE_UP_SECONDS)
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code
    return None  # a message instead of a close


async def test_a_socket_without_connection_init_in_time_is_closed_with_4408(
    slow_client_server: str,
) -> None:
    # Given a socket that never sends connection_init
    async with connect(ws_url(slow_client_server), subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        # Then the server closes it once the deadline passes
        assert await close_code(ws) == CONNECTION_INIT_TIMEOUT


async def test_one_address_holds_only_so_many_sockets_without_connection_init(
    tmp_path: Path,
) -> None:
    # Given a server whose sockets may wait for connection_init longer than this test runs
    settings: dict[str, object] = {"connection_init_timeout_seconds": 60.0}
    with redis_server() as redis_url:
        async with (
            serve(settings, redis_url, str(tmp_path)) as url,
            contextlib.AsyncExitStack() as sockets,
        ):
            waiting = [
                await sockets.enter_async_context(
                    connect(ws_url(url), subprotocols=[GRAPHQL_TRANSPORT_WS])
                )
                for _ in range(MAX_UNACKNOWLEDGED_SOCKETS_PER_CLIENT)
            ]
            # When the same address opens one more
            one_too_many = await sockets.enter_async_context(
                connect(ws_url(url), subprotocols=[GRAPHQL_TRANSPORT_WS])
            )
            # Then it is closed at once: too many requests
            assert await close_code(one_too_many) == TOO_MANY_REQUESTS
            # And once one of the others is acknowledged, there is room again
            await waiting[0].send(json.dumps({"type": "connection_init"}))
            ack = json.loads(await asyncio.wait_for(waiting[0].recv(), GIVE_UP_SECONDS))
            assert ack["type"] == "connection_ack"
            another = await sockets.enter_async_context(
                connect(ws_url(url), subprotocols=[GRAPHQL_TRANSPORT_WS])
            )
            await another.send(json.dumps({"type": "connection_init"}))
            ack = json.loads(await asyncio.wait_for(another.recv(), GIVE_UP_SECONDS))
            assert ack["type"] == "connection_ack"
