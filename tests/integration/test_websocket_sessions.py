"""An operation on an open WebSocket runs only while the token it was opened with is still
valid: once revoked (logOut, from anywhere) or expired, the next operation closes the
socket with 4403, as a refused connection_init does. Queries run over graphql-transport-ws
as subscriptions will."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.client import GraphQLClient
from tests.conftest import EmbeddedServer, insert_user

GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")
FORBIDDEN = 4403
GIVE_UP_SECONDS = 10.0
VIEWER_QUERY = "query { viewer { username } }"
SHORT_SESSION = timedelta(seconds=1)


def ws_url(url: str) -> str:
    return f"{url.replace('http://', 'ws://', 1)}/graphql"


async def open_socket(url: str, token: str) -> ClientConnection:
    websocket = await connect(ws_url(url), subprotocols=[GRAPHQL_TRANSPORT_WS])
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    await websocket.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(websocket.recv(), GIVE_UP_SECONDS))
    assert ack["type"] == "connection_ack", ack
    return websocket


async def run_query(websocket: ClientConnection, operation_id: str) -> dict[str, Any] | int:
    """The query's first result, or the close code if the server closed the socket."""
    subscribe = {"id": operation_id, "type": "subscribe", "payload": {"query": VIEWER_QUERY}}
    try:
        await websocket.send(json.dumps(subscribe))
        message = json.loads(await asyncio.wait_for(websocket.recv(), GIVE_UP_SECONDS))
    except ConnectionClosed as closed:
        return -1 if closed.rcvd is None else closed.rcvd.code
    payload: dict[str, Any] = message["payload"]
    await asyncio.wait_for(websocket.recv(), GIVE_UP_SECONDS)  # its complete message
    # What the operation answered; its extensions report the request's cost.
    return {key: value for key, value in payload.items() if key != "extensions"}


async def test_a_token_revoked_by_log_out_gets_4403_on_its_next_operation(
    graphql: GraphQLClient, server_url: str
) -> None:
    # Given a socket opened with a token, on which a query ran
    account = await graphql.sign_up()
    websocket = await open_socket(server_url, account.token)
    try:
        first = await run_query(websocket, "1")
        assert first == {"data": {"viewer": {"username": account.username}}}
        # When the token is logged out over HTTP
        await graphql.data("mutation { logOut { ok } }", token=account.token)
        # Then the next operation on the socket closes it: Forbidden
        assert await run_query(websocket, "2") == FORBIDDEN
    finally:
        await websocket.close()


async def test_an_expired_token_gets_4403_on_its_next_operation(
    embedded: EmbeddedServer,
) -> None:
    # Given a socket opened with a session that lives one second
    services = embedded.runtime.services
    user = await insert_user(services)
    now = services.clock()
    token = await services.stores.sessions.create(user.id, now=now, expires_at=now + SHORT_SESSION)
    url = str(embedded.graphql.http.base_url).rstrip("/")
    websocket = await open_socket(url, token)
    try:
        assert await run_query(websocket, "1") == {"data": {"viewer": {"username": user.username}}}
        # When the session has expired
        await asyncio.sleep(SHORT_SESSION.total_seconds())
        # Then the next operation closes the socket: Forbidden
        assert await run_query(websocket, "2") == FORBIDDEN
    finally:
        await websocket.close()


async def test_an_anonymous_socket_keeps_running_operations(server_url: str) -> None:
    websocket = await connect(ws_url(server_url), subprotocols=[GRAPHQL_TRANSPORT_WS])
    try:
        await websocket.send(json.dumps({"type": "connection_init"}))
        await asyncio.wait_for(websocket.recv(), GIVE_UP_SECONDS)

        results = [await run_query(websocket, str(number)) for number in range(3)]

        assert results == [{"data": {"viewer": None}}] * 3
    finally:
        await websocket.close()
