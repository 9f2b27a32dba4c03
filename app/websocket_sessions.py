"""graphql-transport-ws as Pictograph runs it: strawberry's handler, plus

- a session check per operation: a token revoked (`logOut`) or expired since
  connection_init closes the socket with 4403 on the next `subscribe`, as a refused
  connection_init does;
- a cap on the sockets one client address holds open without an acknowledged
  connection_init (counted per process), so a client cannot pin hundreds of idle sockets.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol, cast

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from resolvers.context import Context

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


class HoldsUnacknowledgedSockets(Protocol):
    unacknowledged_sockets: UnacknowledgedSockets


class SessionCheckingHandler(BaseGraphQLTransportWSHandler[Context, None]):
    _counted = False

    @property
    def _sockets(self) -> UnacknowledgedSockets:
        return cast(HoldsUnacknowledgedSockets, self.view).unacknowledged_sockets

    async def handle(self) -> None:
        if not self._sockets.admit(self.context.client_address):
            await self.websocket.close(
                code=TOO_MANY_REQUESTS, reason="Too many unacknowledged connections"
            )
            return
        self._counted = True
        try:
            await super().handle()
        finally:
            self._uncount()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self._uncount()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and not await self._session_is_valid():
            await self.websocket.close(code=FORBIDDEN, reason="Forbidden")
            return
        await super().handle_subscribe(message)

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
