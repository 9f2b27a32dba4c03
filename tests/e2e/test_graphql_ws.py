"""The WebSocket endpoint as graphql-ws's own client (graphql-transport-ws) meets it.

The token travels in connection_init as `{"authorization": "Bearer <token>"}`; a bad one closes
the socket with 4403 Forbidden. The legacy subscriptions-transport-ws protocol (subprotocol
`graphql-ws`) is not offered.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.client import GraphQLClient
from tests.e2e.node_tools import execute_over_websocket

VIEWER_QUERY = "query { viewer { username } }"
FORBIDDEN = 4403  # graphql-transport-ws: connection_init refused
SUBPROTOCOL_NOT_ACCEPTABLE = 4406  # graphql-transport-ws: no subprotocol we speak was offered
GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")
LEGACY_GRAPHQL_WS = Subprotocol("graphql-ws")  # subscriptions-transport-ws, unmaintained
RAW_SOCKET_TIMEOUT_SECONDS = 10.0


@pytest.fixture
def ws_url(server_url: str) -> str:
    return f"{server_url.replace('http://', 'ws://', 1)}/graphql"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@dataclass
class RawSocket:
    """What a bare WebSocket client saw after sending connection_init."""

    subprotocol: str | None = None
    frames: list[str | bytes] = field(default_factory=list)
    close_code: int | None = None


async def send_connection_init(ws_url: str, subprotocol: Subprotocol) -> RawSocket:
    """Offer only `subprotocol`, send connection_init, and wait for one frame or the close."""
    seen = RawSocket()
    async with connect(
        ws_url, subprotocols=[subprotocol], open_timeout=RAW_SOCKET_TIMEOUT_SECONDS
    ) as websocket:
        seen.subprotocol = websocket.subprotocol
        try:
            await websocket.send(json.dumps({"type": "connection_init", "payload": {}}))
            seen.frames.append(await asyncio.wait_for(websocket.recv(), RAW_SOCKET_TIMEOUT_SECONDS))
        except ConnectionClosed as closed:
            seen.close_code = None if closed.rcvd is None else closed.rcvd.code
    return seen


async def test_a_token_in_connection_init_makes_the_viewer(
    graphql: GraphQLClient, ws_url: str
) -> None:
    # Given an account and its token in the connection_init payload
    account = await graphql.sign_up()
    # When the viewer is asked for over the socket
    outcome = await execute_over_websocket(
        ws_url, VIEWER_QUERY, connection_params=bearer(account.token)
    )
    # Then it is that account
    assert [result["data"] for result in outcome.results or []] == [
        {"viewer": {"username": account.username}}
    ], outcome


async def test_without_connection_params_the_viewer_is_null(ws_url: str) -> None:
    # Given a connection_init without a payload
    # When the viewer is asked for over the socket
    outcome = await execute_over_websocket(ws_url, VIEWER_QUERY)
    # Then there is none: an anonymous connection is allowed
    assert [result["data"] for result in outcome.results or []] == [{"viewer": None}], outcome


async def test_a_revoked_token_closes_the_connection_with_4403(
    graphql: GraphQLClient, ws_url: str
) -> None:
    # Given a token whose session was logged out over HTTP
    account = await graphql.sign_up()
    assert await graphql.data("mutation { logOut { ok } }", token=account.token) == {
        "logOut": {"ok": True}
    }
    # When it is sent in connection_init
    outcome = await execute_over_websocket(
        ws_url, VIEWER_QUERY, connection_params=bearer(account.token)
    )
    # Then the server closes the socket: Forbidden
    assert outcome.close_code == FORBIDDEN, outcome


async def test_a_garbage_token_closes_the_connection_with_4403(ws_url: str) -> None:
    # Given a token that the server never issued
    # When it is sent in connection_init
    outcome = await execute_over_websocket(
        ws_url, VIEWER_QUERY, connection_params=bearer("not-a-token")
    )
    # Then the server closes the socket: Forbidden
    assert outcome.close_code == FORBIDDEN, outcome


async def test_a_handshake_offering_graphql_transport_ws_is_acknowledged(ws_url: str) -> None:
    # Given a bare client that offers only graphql-transport-ws
    # When it sends connection_init
    socket = await send_connection_init(ws_url, GRAPHQL_TRANSPORT_WS)
    # Then the server speaks that protocol and acknowledges the connection
    assert socket.subprotocol == GRAPHQL_TRANSPORT_WS
    assert [json.loads(frame) for frame in socket.frames] == [
        {"type": "connection_ack", "payload": None}
    ]


async def test_graphql_transport_ws_messages_are_text_frames(ws_url: str) -> None:
    # Given a connection speaking graphql-transport-ws
    # When the server sends its first message (connection_ack)
    socket = await send_connection_init(ws_url, GRAPHQL_TRANSPORT_WS)
    # Then it is a text frame: graphql-ws's client (browsers and Node) ignores binary ones
    assert [type(frame) for frame in socket.frames] == [str], socket.frames


async def test_a_handshake_offering_only_the_legacy_graphql_ws_protocol_is_refused(
    ws_url: str,
) -> None:
    # Given a bare client that offers only the legacy subscriptions-transport-ws protocol
    # When it sends its connection_init
    socket = await send_connection_init(ws_url, LEGACY_GRAPHQL_WS)
    # Then no protocol is agreed, nothing is acknowledged, and the socket is closed
    assert socket.subprotocol is None
    assert socket.frames == []
    assert socket.close_code == SUBPROTOCOL_NOT_ACCEPTABLE
