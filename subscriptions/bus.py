"""The event bus: publish an event once, every subscriber of its channel in every process
receives it.

**Persist first, publish second.** A caller publishes an event only after the write that
it announces is durable (the MongoDB write has returned), never before and never instead:
a receiver loads what the event names, so an event published early finds nothing, and the
store, not the bus, is what a client catches up from. `EventBus.publish` therefore never
raises into the mutation that calls it: a failed publish is logged and the mutation still
succeeds (the store is the truth, the push is a hint).

broadcaster's `Broadcast` routes each channel's messages in this process, on broadcaster's
memory backend (embedded mode: one process) or on our Redis backend
(`subscriptions/redis_backend.py`: every process sharing one Redis). broadcaster gives each
subscriber an unbounded queue and waits on every put, so a bounded queue there would stall
every channel behind one slow subscriber; the bus therefore takes one broadcaster
subscription per channel and fans its events out itself, decoded once, into each
subscriber's bounded `Subscription` without ever waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from urllib.parse import urlparse

from broadcaster import Broadcast

from subscriptions.channels import channel_of
from subscriptions.events import Event, MalformedEvent, decode, encode
from subscriptions.redis_backend import RedisPubSubBackend
from subscriptions.subscription import SUBSCRIBER_QUEUE_MAX_EVENTS, Subscription

logger = logging.getLogger(__name__)

MEMORY_URL = "memory://"  # broadcaster's in-process backend: embedded mode
REDIS_SCHEMES = ("redis", "rediss")
# A publish waits no longer than this: it is on a mutation's path, and it is only a hint.
PUBLISH_TIMEOUT_SECONDS = 1.0


async def until_subscribed(subscribed: asyncio.Event, task: asyncio.Task[None]) -> None:
    """Returns once `task`, a listener on the bus, has set `subscribed`; raises what `task`
    failed with if it ends first (it could not subscribe: say why)."""
    waiting = asyncio.ensure_future(subscribed.wait())
    await asyncio.wait({waiting, task}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if task.done():
        task.result()


class _ChannelFanout:
    """This process's subscribers of one channel, fed by one broadcaster subscription."""

    def __init__(self, broadcast: Broadcast, channel: str) -> None:
        self.channel = channel
        self.subscribers: set[Subscription[Event]] = set()
        self._broadcast = broadcast
        self._subscribed = asyncio.Event()
        self._task = asyncio.create_task(self._pump(), name=f"bus-fanout-{channel}")

    async def subscribed(self) -> None:
        """Returns once events published from now on reach this channel's subscribers."""
        await until_subscribed(self._subscribed, self._task)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _pump(self) -> None:
        async with self._broadcast.subscribe(self.channel) as messages:
            self._subscribed.set()
            while True:
                message = await messages.get()
                try:
                    event = decode(message.message)
                except MalformedEvent as error:
                    logger.warning(
                        "bus: skipped a malformed message on %s: %s", self.channel, error
                    )
                    continue
                for subscriber in list(self.subscribers):
                    subscriber.offer(event)
                    if subscriber.ended:
                        self.subscribers.discard(subscriber)
                        logger.warning("bus: dropped a subscriber of %s: too slow", self.channel)


class EventBus:
    """Opened once per process (`open_event_bus`) and shared by every request."""

    def __init__(
        self,
        broadcast: Broadcast,
        probe: Callable[[], Awaitable[None]],
        *,
        subscriber_max_events: int = SUBSCRIBER_QUEUE_MAX_EVENTS,
    ) -> None:
        self._broadcast = broadcast
        self._probe = probe
        self._subscriber_max_events = subscriber_max_events
        self._channels: dict[str, _ChannelFanout] = {}

    @property
    def subscriber_max_events(self) -> int:
        """How far behind a subscriber of this bus may fall before it is dropped."""
        return self._subscriber_max_events

    async def publish(self, event: Event) -> None:
        """Announce `event`, whose write is already durable; never raises (see the module)."""
        channel = channel_of(event)
        try:
            await asyncio.wait_for(
                self._broadcast.publish(channel, encode(event)), PUBLISH_TIMEOUT_SECONDS
            )
        except Exception:
            logger.exception("bus: could not publish %r on %s", event, channel)

    async def publish_many(self, events: Iterable[Event]) -> None:
        """`publish` each of `events` (one write's announcements), all at once."""
        await asyncio.gather(*(self.publish(event) for event in events))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription[Event]]:
        """The events published on `channel` from the moment this is entered."""
        subscription: Subscription[Event] = Subscription(channel, self._subscriber_max_events)
        fanout = self._channels.get(channel)
        if fanout is None:
            fanout = self._channels[channel] = _ChannelFanout(self._broadcast, channel)
        fanout.subscribers.add(subscription)
        try:
            await fanout.subscribed()
            yield subscription
        finally:
            fanout.subscribers.discard(subscription)
            if not fanout.subscribers and self._channels.get(channel) is fanout:
                del self._channels[channel]
                await fanout.stop()

    def subscriber_count(self, channel: str) -> int:
        """How many subscribers of `channel` this process has (for probes and tests)."""
        fanout = self._channels.get(channel)
        return 0 if fanout is None else len(fanout.subscribers)

    async def ping(self) -> None:
        """Raises unless the bus can publish and receive now (for /readyz)."""
        await self._probe()

    async def _close_subscriptions(self) -> None:
        for fanout in list(self._channels.values()):
            for subscriber in fanout.subscribers:
                subscriber.close()
            await fanout.stop()
        self._channels.clear()


async def _always_ready() -> None:
    return None


@asynccontextmanager
async def open_event_bus(
    url: str | None, *, subscriber_max_events: int = SUBSCRIBER_QUEUE_MAX_EVENTS
) -> AsyncIterator[EventBus]:
    """The bus on `url` (`redis://...`), or on broadcaster's memory backend when None."""
    if url is None:
        broadcast = Broadcast(MEMORY_URL)
        probe: Callable[[], Awaitable[None]] = _always_ready
    elif urlparse(url).scheme in REDIS_SCHEMES:
        backend = RedisPubSubBackend(url)
        broadcast = Broadcast(backend=backend)
        probe = backend.ping
    else:
        raise ValueError(f"the event bus needs a redis:// or rediss:// URL, not {url!r}")
    async with broadcast:
        bus = EventBus(broadcast, probe, subscriber_max_events=subscriber_max_events)
        try:
            yield bus
        finally:
            await bus._close_subscriptions()
