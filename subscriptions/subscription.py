"""One subscriber's bounded queue (of bus events, or of what a delivery hands one receiver),
and the signal that it could not keep up."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")

# Events are shared between subscribers, so a queued event costs a subscriber one slot, not
# a copy; the bound is about lag. A socket that is healthy drains each event in
# milliseconds; one this far behind is showing stale hints, and it is quicker (and cheaper
# for the process) to close it: the client reconnects and catches up by cursor from the
# store, which is the truth.
SUBSCRIBER_QUEUE_MAX_EVENTS = 100
# The WebSocket close code for a subscriber dropped for being too slow: in the private range
# (4000-4999), clear of graphql-transport-ws's own codes (4400, 4401, 4403, 4406, 4408, 4409,
# 4429, 4500), echoing the standard 1013 "Try Again Later": reconnect, then catch up.
SUBSCRIBER_TOO_SLOW_CLOSE_CODE = 4013


class SubscriberTooSlow(Exception):
    """Raised by a subscription whose queue overflowed: it receives nothing more."""

    close_code = SUBSCRIBER_TOO_SLOW_CLOSE_CODE


class _End(Enum):
    TOO_SLOW = "too slow"
    CLOSED = "closed"  # the bus is closing


class Subscription(Generic[T]):
    """The items of one channel for one subscriber, in order: `async for item in it`.

    The iteration ends when the bus closes, and raises `SubscriberTooSlow` once the
    subscriber has let more than `max_events` events pile up.
    """

    def __init__(self, channel: str, max_events: int = SUBSCRIBER_QUEUE_MAX_EVENTS) -> None:
        self.channel = channel
        # One slot more than the bound, kept for the end marker.
        self._queue: asyncio.Queue[T | _End] = asyncio.Queue(max_events + 1)
        self._max_events = max_events
        self._ended = False

    @property
    def ended(self) -> bool:
        return self._ended

    def offer(self, item: T) -> None:
        """Queue `item` without waiting; a subscriber already full is dropped instead."""
        if self._ended:
            return
        if self._queue.qsize() >= self._max_events:
            self._end(_End.TOO_SLOW)
            return
        self._queue.put_nowait(item)

    def close(self) -> None:
        self._end(_End.CLOSED)

    def drop(self) -> None:
        """End it as too slow, whatever it holds (its reader raises `SubscriberTooSlow`)."""
        self._end(_End.TOO_SLOW)

    def _end(self, end: _End) -> None:
        if self._ended:
            return
        self._ended = True
        if end is _End.TOO_SLOW:
            # What is queued is dropped with it: the client catches up from the store.
            while not self._queue.empty():
                self._queue.get_nowait()
        self._queue.put_nowait(end)

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        item = await self._queue.get()
        if item is _End.TOO_SLOW:
            self._queue.put_nowait(item)  # every later read says the same
            raise SubscriberTooSlow(f"more than {self._max_events} events behind on {self.channel}")
        if item is _End.CLOSED:
            self._queue.put_nowait(item)
            raise StopAsyncIteration
        return item
