"""graphql-transport-ws as Pictograph runs it: strawberry's handler, plus

- sockets closed with 4403 when their session ends: `logOut` publishes `SessionRevoked` on
  the bus, and every process closes the sockets that session opened (`OpenSockets`, fed by
  `closing_revoked_sessions` from the lifespan) within the bus's latency; a session that
  expires closes its sockets at the moment it expires (a timer per socket);
- a session check per operation as well: the next `subscribe` on a socket whose token was
  revoked or expired closes it with 4403 even if the bus lost the revocation;
- a cap on the sockets one client address holds open without an acknowledged
  connection_init (counted per process), so a client cannot pin hundreds of idle sockets;
- each operation's `SocketOperation` (resolvers/context.py), through which a subscription
  event rendered once for many receivers is written to this socket as a `next` message of
  that operation's id (resolvers/delivery.py), framed around the encoded payload.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Protocol, cast

import orjson
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from resolvers.context import Context, SocketOperation, running_socket_operation
from subscriptions.bus import EventBus, until_subscribed
from subscriptions.channels import sessions_channel
from subscriptions.events import SessionRevoked
from subscriptions.subscription import SubscriberTooSlow

logger = logging.getLogger(__name__)

# An unacknowledged socket lives for the one round trip before connection_init; even many
# people behind one NAT rarely have more than a few in that state at once (300 from one
# client were held open before this cap).
MAX_UNACKNOWLEDGED_SOCKETS_PER_CLIENT = 20
FORBIDDEN = 4403  # graphql-transport-ws: the credentials are refused
TOO_MANY_REQUESTS = 4429  # graphql-transport-ws's code for too many initialisations


class UnacknowledgedSockets:
    """How many sockets each client address holds before its connection_init is accepted."""

    def __init__(self, cap: int = MAX_UNACKNOWLEDGED_SOCKETS_PER_CLIENT) -> None:
        self._cap = cap
        self._open: Counter[str] = Counter()

    def admit(self, client: str) -> bool:
        if self._open[client] >= self._cap:
            return False
        self._open[client] += 1
        return True

    def release(self, client: str) -> None:
        self._open[client] -= 1
        if self._open[client] <= 0:
            del self._open[client]


Close = Callable[[int, str], Awaitable[None]]


class OpenSockets:
    """This process's acknowledged sockets, by the token hash of the session that opened
    them, so that a revoked session's sockets can be closed wherever they are."""

    def __init__(self) -> None:
        self._by_session: defaultdict[str, set[Close]] = defaultdict(set)

    def add(self, token_hash: str, close: Close) -> None:
        self._by_session[token_hash].add(close)

    def discard(self, token_hash: str, close: Close) -> None:
        closes = self._by_session.get(token_hash)
        if closes is not None:
            closes.discard(close)
            if not closes:
                del self._by_session[token_hash]

    async def close_session(self, token_hash: str) -> None:
        for close in list(self._by_session.pop(token_hash, ())):
            await close(FORBIDDEN, "Forbidden: the session was revoked")

    def __len__(self) -> int:
        return sum(len(closes) for closes in self._by_session.values())


@asynccontextmanager
async def closing_revoked_sessions(bus: EventBus, sockets: OpenSockets) -> AsyncIterator[None]:
    """While entered, every `SessionRevoked` on the bus closes that session's sockets here.
    Entered once per process, in the lifespan; returns once subscribed."""

    async def listen() -> None:
        while True:
            try:
                async with bus.subscribe(sessions_channel()) as events:
                    subscribed.set()
                    async for event in events:
                        if isinstance(event, SessionRevoked):
                            await sockets.close_session(event.session_id)
                    return  # the bus closed
            except SubscriberTooSlow:
                # Revocations arrived faster than sockets closed: subscribe again; the
                # per-operation check covers what was dropped meanwhile.
                logger.warning("the revoked-sessions listener fell behind; subscribing again")

    subscribed = asyncio.Event()
    listener = asyncio.create_task(listen(), name="revoked-sessions")
    await until_subscribed(subscribed, listener)
    try:
        yield
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)


class HoldsSockets(Protocol):
    unacknowledged_sockets: UnacknowledgedSockets
    open_sockets: OpenSockets


class SessionCheckingHandler(BaseGraphQLTransportWSHandler[Context, None]):
    _counted = False
    _closed = False
    _watched: str | None = None  # the token hash this socket is registered under
    _expiry: asyncio.Task[None] | None = None

    @property
    def _sockets(self) -> UnacknowledgedSockets:
        return cast(HoldsSockets, self.view).unacknowledged_sockets

    @property
    def _open_sockets(self) -> OpenSockets:
        return cast(HoldsSockets, self.view).open_sockets

    async def handle(self) -> None:
        if not self._sockets.admit(self.context.client_address):
            await self.websocket.close(
                code=TOO_MANY_REQUESTS, reason="Too many unacknowledged connections"
            )
            return
        self._counted = True
        # For the resolvers: a subscriber too slow closes its socket (4013).
        self.context.close_socket = self.close
        try:
            await super().handle()
        finally:
            self._uncount()
            self._unwatch()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self._uncount()
            self._watch_session()

    async def close(self, code: int, reason: str) -> None:
        """Close the socket (once; from any task): its operations end with it."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.websocket.close(code=code, reason=reason)

    def _watch_session(self) -> None:
        session = self.context.session
        if session is None:
            return  # an anonymous connection has nothing to revoke
        self._watched = session.token_hash
        self._open_sockets.add(session.token_hash, self.close)
        left = (session.expires_at - self.context.services.clock()).total_seconds()
        self._expiry = asyncio.create_task(self._close_at_expiry(max(left, 0.0)))

    async def _close_at_expiry(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.close(FORBIDDEN, "Forbidden: the session expired")

    def _unwatch(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        if self._watched is not None:
            self._open_sockets.discard(self._watched, self.close)
            self._watched = None

    async def handle_message(self, message: Message) -> None:
        # strawberry reads a message's fields as a dict's: JSON that is not an object
        # (`[1]`, `"x"`) raised a TypeError out of the handler instead of closing with 4400.
        if not isinstance(message, dict):
            await self.handle_invalid_message("A message must be a JSON object")
            return
        if message.get("type") == "subscribe" and not _is_subscribe_payload(message):
            await self.handle_invalid_message("A subscribe message needs an id and a payload")
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and not await self._session_is_valid():
            await self.close(FORBIDDEN, "Forbidden")
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # In the operation's own task: its context (Context.for_operation) picks this up.
        frame_start = '{"id":' + orjson.dumps(operation.id).decode() + ',"type":"next","payload":'
        running_socket_operation.set(
            SocketOperation(
                variables=operation.variables,
                push=functools.partial(self._push_next, operation, frame_start),
            )
        )
        await super().run_operation(operation)

    async def _push_next(
        self, operation: Operation[Context, None], frame_start: str, payload: str
    ) -> bool:
        """Sends `operation` a `next` message whose payload is the JSON text `payload`, as
        strawberry's own would be (after a complete or error, nothing)."""
        websocket = cast(ASGIWebSocketAdapter, self.websocket).ws
        if (
            operation.completed
            or self.operations.get(operation.id) is not operation
            or websocket.application_state is not WebSocketState.CONNECTED
        ):
            return False
        try:
            await websocket.send_text(frame_start + payload + "}")
        except WebSocketDisconnect:
            return False
        return True

    async def _session_is_valid(self) -> bool:
        """One indexed read per operation, not a cache: a revocation in any process must
        stop the very next operation."""
        session = self.context.session
        if session is None:
            return True  # an anonymous connection has nothing to revoke
        now = self.context.services.clock()
        if session.expires_at <= now:
            return False
        return await self.context.services.stores.sessions.is_active(session.token_hash, now=now)

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            self._sockets.release(self.context.client_address)


def _is_subscribe_payload(message: Mapping[str, object]) -> bool:
    """Whether a subscribe message has the shape graphql-transport-ws gives it (strawberry
    reads its payload unchecked: one that is not an object raised a TypeError). `query` may
    be absent: a persisted query sends only its hash (app/persisted_queries.py)."""
    payload = message.get("payload")
    return (
        isinstance(message.get("id"), str)
        and isinstance(payload, dict)
        and isinstance(payload.get("query", ""), str | None)
        and isinstance(payload.get("variables") or {}, dict)
        and isinstance(payload.get("operationName") or "", str)
        and isinstance(payload.get("extensions") or {}, dict)
    )
