"""A small graphql-transport-ws client for the tests (websockets' asyncio client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
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


async def receive(websocket: ClientConnection, seconds: float = GIVE_UP_SECONDS) -> Any:
    return json.loads(await asyncio.wait_for(websocket.recv(), seconds))


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


async def next_data(websocket: ClientConnection, seconds: float = GIVE_UP_SECONDS) -> Any:
    """The `data` of the next `next` message (its errors fail the test)."""
    message = await receive(websocket, seconds)
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


async def close_code(websocket: ClientConnection, seconds: float = GIVE_UP_SECONDS) -> int | None:
    """The code the server closes the socket with (reading and dropping what comes first);
    None when the connection dropped without a close frame."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                await websocket.recv()
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code


async def until(condition: Callable[[], bool], seconds: float = GIVE_UP_SECONDS) -> None:
    """Returns once `condition()` holds, polled: what it reads (a bus's subscriber count)
    offers nothing to wait on."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (nothing to wait on: see above)
            await asyncio.sleep(0.01)


# How long one attempt of `first_pushed` waits for its event: a subscription that has
# reached the bus receives it in milliseconds; one still starting gets another attempt.
ATTEMPT_SECONDS = 0.5
ATTEMPTS = 20


async def first_pushed(
    websocket: ClientConnection, trigger: Callable[[int], Awaitable[object]]
) -> tuple[int, Any]:
    """Calls `trigger(attempt)` until the subscription just sent pushes something: the
    protocol never says when a subscription has started, and an event published before
    that is not its to receive. Returns the attempt that was pushed first and its data."""
    for attempt in range(ATTEMPTS):
        await trigger(attempt)
        try:
            message = json.loads(await asyncio.wait_for(websocket.recv(), ATTEMPT_SECONDS))
        except TimeoutError:
            continue
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        return attempt, message["payload"]["data"]
    raise AssertionError(f"nothing was pushed after {ATTEMPTS} attempts")
