"""What every resolver receives: the process-wide services and the per-request context."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher

from loaders import Loaders
from loaders.shared import SharedReadsByEvent
from media.decode_slots import DecodeSlots
from ranking.ranker import Ranker
from resolvers.delivery import Deliveries
from resolvers.rate_limits import RateLimits
from storage.cost_budget import CostBudget
from storage.ids import IdGenerator
from storage.interaction import InteractionLog
from storage.objects import ObjectStorage
from storage.rate_limit import RateLimiter
from storage.redis import Redis
from storage.session import SessionRecord
from storage.stores import Stores
from storage.user import UserRecord
from subscriptions.bus import EventBus


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Services:
    """Built once in the app's lifespan and shared by every request."""

    stores: Stores
    redis: Redis
    ids: IdGenerator
    passwords: PasswordHasher
    # Verified against when a login names no account, so both cases take the same time.
    dummy_password_hash: str
    rate_limiter: RateLimiter
    rate_limits: RateLimits
    objects: ObjectStorage
    session_lifetime: timedelta
    media_base_url: str
    # The surfaces' weights over the engagement model: Triton behind a circuit breaker with
    # the in-process model as its fallback, or the in-process model alone (app/services.py).
    ranker: Ranker
    # Authors with more followers are not fanned out; readers merge their posts instead.
    fanout_max_followers: int
    cursor_secret: bytes  # signs cursors that must not be forged or shared between viewers
    # The process's bound on concurrent image decodes, shared by every request.
    decode_slots: DecodeSlots
    cost_budget: CostBudget  # query cost points each viewer may spend a minute
    bus: EventBus  # publish only after the write an event announces is durable
    # What the app showed and what viewers did: buffered, written off the request's path.
    interactions: InteractionLog
    clock: Callable[[], datetime] = utc_now
    # The reads each event's receivers in this process share (resolvers/delivery.py).
    shared_reads: SharedReadsByEvent = field(default_factory=SharedReadsByEvent)
    # This process's subscription receivers, by channel and kind (resolvers/delivery.py).
    deliveries: Deliveries = field(default_factory=Deliveries)


@dataclass(frozen=True, slots=True)
class SocketOperation:
    """One operation of a graphql-transport-ws socket, as its handler runs it (app/): what a
    subscription needs to push a result to it directly (resolvers/delivery.py)."""

    variables: dict[str, Any] | None  # as the subscribe message sent them
    # Sends a `next` message of the operation's id whose payload is this JSON text; False
    # when the operation or its socket is gone. It waits only while the socket's buffers
    # are full.
    push: Callable[[str], Awaitable[bool]]


# Set by the WebSocket handler in each operation's task, read by `Context.for_operation`.
running_socket_operation: ContextVar[SocketOperation | None] = ContextVar(
    "running_socket_operation", default=None
)


@dataclass(slots=True)
class Context:
    """Built per HTTP request, or once per WebSocket connection (then `loaders` is renewed
    for every subscription event)."""

    services: Services
    loaders: Loaders
    viewer: UserRecord | None = None
    session: SessionRecord | None = None
    # Why a presented token was refused; reported to fields that need a viewer.
    auth_error: str | None = None
    # Who sent the request, as rate limits count it: the peer's address, or the one a
    # trusted proxy forwarded (see app/client_address.py).
    client_address: str = "unknown"
    # The graphql-transport-ws connection_init payload, set by strawberry.
    connection_params: dict[str, Any] | None = field(default=None)
    # Closes the WebSocket this context belongs to with a code and reason (None over HTTP).
    close_socket: Callable[[int, str], Awaitable[None]] | None = None
    # The socket operation this context is for (None over HTTP, and for a connection's own).
    operation: SocketOperation | None = None

    @classmethod
    def for_viewer(cls, services: Services, viewer: UserRecord | None) -> Context:
        """A context with loaders of its own for `viewer` (None: anonymous), as every request
        gets."""
        return cls(services=services, loaders=_loaders(services, viewer), viewer=viewer)

    def refresh_loaders(self) -> None:
        self.loaders = _loaders(self.services, self.viewer)

    def for_operation(self) -> Context:
        """A copy for one operation on a WebSocket, with fresh loaders: the connection's
        operations run at once, and a subscription renews its loaders for each event."""
        return dataclasses.replace(
            self,
            loaders=_loaders(self.services, self.viewer),
            operation=running_socket_operation.get(),
        )


def _loaders(services: Services, viewer: UserRecord | None) -> Loaders:
    viewer_id = None if viewer is None else viewer.id
    return Loaders.create(services.stores, viewer_id, services.clock)
