"""A small graphql-transport-ws client for the tests (websockets' asyncio client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")
GIVE_UP_SECONDS = 10.0


def ws_url(url: str) -> str:
    return f"{url.replace('http://', 'ws://', 1)}/graphql"


async def open_socket(url: str, token: str | None) -> ClientConnection:
    """A socket past connection_ack, with `token` (None: anonymous)."""
    websocket = await connect(ws_url(url), subprotocols=[GRAPHQL_TRANSPORT_WS])
    payload = {} if token is None else {"authorization": f"Bearer {token}"}
    await websocket.send(json.dumps({"type": "connection_init", "payload": payload}))
    ack = await receive(websocket)
    assert ack["type"] == "connection_ack", ack
    return websocket


@asynccontextmanager
async def socket(url: str, token: str | None) -> AsyncIterator[ClientConnection]:
    websocket = await open_socket(url, token)
    try:
        yield websocket
    finally:
        await websocket.close()


async def receive(websocket: ClientConnection, timeout: float = GIVE_UP_SECONDS) -> Any:
    return json.loads(await asyncio.wait_for(websocket.recv(), timeout))


async def subscribe(
    websocket: ClientConnection,
    operation_id: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> None:
    message = {
        "id": operation_id,
        "type": "subscribe",
        "payload": {"query": query, "variables": variables or {}},
    }
    await websocket.send(json.dumps(message))


async def next_data(websocket: ClientConnection, timeout: float = GIVE_UP_SECONDS) -> Any:
    """The `data` of the next `next` message (its errors fail the test)."""
    message = await receive(websocket, timeout)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message["payload"]
    return message["payload"]["data"]


async def nothing_within(websocket: ClientConnection, seconds: float) -> bool:
    """Whether no message arrives within `seconds` (the socket staying open)."""
    try:
        message = await asyncio.wait_for(websocket.recv(), seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"expected nothing, received {message!r}")


async def close_code(websocket: ClientConnection, timeout: float = GIVE_UP_SECONDS) -> int:
    """The code the server closes the socket with (reading and dropping what comes first)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await websocket.recv()
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the connection dropped without a close frame"
        return closed.rcvd.code
