"""Subscription events delivered in one pass per event for all of their receivers in this
process.

Every subscription operation here is a `Receiver` in the `Group` of its channel and kind
(`postLiked` on one post, `messageReceived` of one user...). A group holds one bus
subscription and one task, and for each event it:

1. asks the kind's check, for all of its receivers at once, what each may be shown at this
   moment (the one policy, loaders/visibility.py, through the event's SharedReads: one
   batched read per relation for all of them, `Audience` where the kind is written for
   many viewers);
2. for receivers that have a `Lane` (schema/shared_execution.py: a selection that no viewer
   changes, over a WebSocket) renders each distinct (lane, result) once, encoded, and
   writes that same text to each of their sockets;
3. hands every other receiver its result, with loaders of its own made for the event,
   through its own bounded queue: its operation executes its selection set as any
   subscription's does.

So a like on a post a thousand sockets watch costs one check batch, one execution and one
encoding, then a thousand socket writes, as Phoenix's PubSub "fastlane" writes a broadcast
encoded once straight to its subscribers' sockets. A receiver whose lane's render fails
(errors in the result) goes its own way from then on, so its events stay in order.

Slow receivers: a socket that cannot take a push (its buffers full) within
`PUSH_WAIT_SECONDS`, or a receiver whose queue overflows, is closed with 4013 and nothing
else waits for it; a group that falls as far behind the bus (SUBSCRIBER_QUEUE_MAX_EVENTS)
drops all of its receivers the same way. A client closed so reconnects and catches up by
cursor: the bus is a hint, the store is the truth.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from loaders import Loaders
from loaders.shared import SharedReads
from subscriptions.bus import until_subscribed
from subscriptions.events import Event
from subscriptions.subscription import SubscriberTooSlow, Subscription

if TYPE_CHECKING:
    from resolvers.context import Services

logger = logging.getLogger(__name__)

# How long one push may wait for a socket whose buffers are full before that socket is
# closed as too slow (4013). Every receiver after it in the same event waits as long, so it
# is short; a healthy socket never waits at all (kernel and transport buffers hold hundreds
# of pushes), so one that waits this long is hundreds of events behind.
PUSH_WAIT_SECONDS = 0.1

EventT = TypeVar("EventT", bound=Event)
ResultT = TypeVar("ResultT")
ResultT_contra = TypeVar("ResultT_contra", contravariant=True)


class Lane(Protocol[ResultT_contra]):
    """How a receiver is pushed a result without executing its own selection set."""

    @property
    def key(self) -> Hashable:
        """Lanes with equal keys render the same result into the same text."""

    async def render(self, result: ResultT_contra) -> str | None:
        """The `next` payload for `result`, encoded; None when it must go the receiver's
        own way (an execution with errors)."""

    async def push(self, payload: str) -> bool:
        """Writes `payload` to the receiver's socket; False when it is gone."""


class Receiver(Generic[ResultT]):
    """One subscription operation: what its group delivers to."""

    def __init__(self, services: Services, viewer_id: int, lane: Lane[ResultT] | None) -> None:
        self.services = services
        self.viewer_id = viewer_id
        self.lane = lane
        # As far behind as a subscriber of the bus may fall.
        self.queue: Subscription[tuple[ResultT, Loaders]] = Subscription(
            f"the receiver of viewer {viewer_id}", services.bus.subscriber_max_events
        )


# For all of an event's receivers at once: each one's result, or None for one shown nothing.
Check = Callable[[EventT, Sequence[int], SharedReads], Awaitable[Sequence[ResultT | None]]]


@dataclass(frozen=True, eq=False)
class Kind(Generic[EventT, ResultT]):
    """One kind of subscription: the events it delivers and how their receivers are checked.
    One instance per kind (module-level), so that its receivers on a channel form one group."""

    name: str
    event_type: type[EventT]
    check: Check[EventT, ResultT]
    # The receivers of events with equal keys share their reads (one message reaches each
    # participant on their own channel).
    share_key: Callable[[EventT], Hashable] = lambda event: event


def each_receiver(
    check: Callable[[Loaders, EventT, SharedReads], Awaitable[ResultT | None]],
) -> Check[EventT, ResultT]:
    """A check for all receivers made of one written for a single receiver's loaders (made
    for the event, reading through its SharedReads): for kinds whose channel has few
    receivers (one user's own), where a task each costs nothing worth batching away."""

    async def check_all(
        event: EventT, viewer_ids: Sequence[int], shared: SharedReads
    ) -> Sequence[ResultT | None]:
        return await asyncio.gather(
            *(check(_event_loaders(shared, viewer), event, shared) for viewer in viewer_ids)
        )

    return check_all


def _event_loaders(shared: SharedReads, viewer_id: int) -> Loaders:
    return Loaders.create(shared.stores, viewer_id, shared.clock, shared=shared)


class Group(Generic[EventT, ResultT]):
    """The receivers of one kind on one channel in this process (see the module)."""

    def __init__(self, services: Services, channel: str, kind: Kind[EventT, ResultT]) -> None:
        self.channel = channel
        self.kind = kind
        self.receivers: dict[Receiver[ResultT], None] = {}  # in the order they joined
        self._services = services
        self._subscribed = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"deliveries-{kind.name}-{channel}")

    async def subscribed(self) -> None:
        """Returns once events published from now on reach this group's receivers."""
        await until_subscribed(self._subscribed, self._task)

    @property
    def is_subscribed(self) -> bool:
        return self._subscribed.is_set() and not self._task.done()

    @property
    def ended(self) -> bool:
        return self._task.done()

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            async with self._services.bus.subscribe(self.channel) as events:
                self._subscribed.set()
                async for event in events:
                    if not isinstance(event, self.kind.event_type):
                        continue
                    try:
                        await self._deliver(event)
                    except Exception:  # a store failed: this event is lost, as a hint may be
                        logger.exception("could not deliver %r to its receivers", event)
        except SubscriberTooSlow as too_slow:
            logger.warning("deliveries of %s fell behind: %s", self.kind.name, too_slow)
            for receiver in self.receivers:
                receiver.queue.drop()
        finally:
            for receiver in self.receivers:
                receiver.queue.close()  # the bus closed: their subscriptions end

    async def _deliver(self, event: EventT) -> None:
        receivers = list(self.receivers)
        services = self._services
        share_key = self.kind.share_key(event)
        with services.shared_reads.hold(share_key, services.stores, services.clock) as shared:
            results = await self.kind.check(
                event, [receiver.viewer_id for receiver in receivers], shared
            )
            pushes: list[tuple[Receiver[ResultT], Lane[ResultT], str]] = []
            rendered: dict[tuple[Hashable, int], str | None] = {}
            for receiver, result in zip(receivers, results, strict=True):
                if result is None:
                    continue
                lane = receiver.lane
                if lane is not None:
                    # Results are held in `results` meanwhile, so their ids are their own.
                    rendering = (lane.key, id(result))
                    if rendering not in rendered:
                        rendered[rendering] = await lane.render(result)
                    payload = rendered[rendering]
                    if payload is not None:
                        pushes.append((receiver, lane, payload))
                        continue
                    receiver.lane = None  # its own way from now on: its events stay in order
                receiver.queue.offer((result, _event_loaders(shared, receiver.viewer_id)))
                if receiver.queue.ended:  # it overflowed: its subscription ends, 4013
                    self.receivers.pop(receiver, None)
        await self._push(pushes)

    async def _push(self, pushes: list[tuple[Receiver[ResultT], Lane[ResultT], str]]) -> None:
        # A push to a healthy socket never suspends, so the whole loop runs without a pause
        # and the deadline cannot pass during it; when it suspends, the socket it waits on
        # is the one whose buffers are full, and it alone is dropped at the deadline.
        done = 0
        while done < len(pushes):
            try:
                async with asyncio.timeout(PUSH_WAIT_SECONDS):
                    while done < len(pushes):
                        _, lane, payload = pushes[done]
                        done += 1
                        await lane.push(payload)
            except TimeoutError:
                stuck = pushes[done - 1][0]
                logger.info("dropped a receiver of %s: its socket is full", self.kind.name)
                self.receivers.pop(stuck, None)
                stuck.queue.drop()


class Deliveries:
    """This process's groups, by channel and kind: one per `Services`."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, Kind[Any, Any]], Group[Any, Any]] = {}

    async def join(
        self, channel: str, kind: Kind[EventT, ResultT], receiver: Receiver[ResultT]
    ) -> None:
        """Adds `receiver`; returns once events published from now on reach it."""
        group: Group[EventT, ResultT] | None = self._groups.get((channel, kind))
        if group is None or group.ended:  # an ended one (the bus closed) delivers no more
            group = self._groups[(channel, kind)] = Group(receiver.services, channel, kind)
        group.receivers[receiver] = None
        await group.subscribed()

    async def leave(self, channel: str, kind: Kind[Any, Any], receiver: Receiver[Any]) -> None:
        group = self._groups.get((channel, kind))
        if group is None:
            return
        group.receivers.pop(receiver, None)
        if not group.receivers:
            del self._groups[(channel, kind)]
            await group.stop()

    def receiver_count(self, channel: str) -> int:
        """How many receivers of `channel` this process delivers to now, all kinds (for
        tests: each receives what is published from then on)."""
        return sum(
            len(group.receivers)
            for (name, _), group in self._groups.items()
            if name == channel and group.is_subscribed
        )
