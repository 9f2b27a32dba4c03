"""Bounded exponential backoff, and a wait that a stop request cuts short."""

from __future__ import annotations

import asyncio
import contextlib


class Backoff:
    """first, 2 x first, 4 x first, ... never more than `most` seconds; `reset` on success."""

    def __init__(self, first: float, most: float) -> None:
        self._first = first
        self._most = most
        self._next = first

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self._most)
        return delay

    def reset(self) -> None:
        self._next = self._first


async def wait_unless_stopped(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
