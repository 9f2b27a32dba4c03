"""A per-process bound on image decoding: however many requests render at once, at most a
few images are decoded at the same time, and the others wait their turn.

A decode is the most memory one request can make the process hold and keeps a core busy for
seconds, so the bound is on both: one slot per core, and never more than
MAX_CONCURRENT_DECODES.
"""

from __future__ import annotations

import asyncio
import os

from media.image import Render, Rendition

# A 7000x7000 PNG with transparency peaks at ~450 MB while it renders (as RGB, ~260 MB; a
# JPEG, decoded scaled down, ~30 MB): four at once stay under 2 GB per process, and cores
# beyond four are left to the requests that are not decoding.
MAX_CONCURRENT_DECODES = 4


def default_decode_slots() -> int:
    """One slot per core this process may use, at most MAX_CONCURRENT_DECODES."""
    return max(1, min(os.cpu_count() or 1, MAX_CONCURRENT_DECODES))


class DecodeSlots:
    """Runs renders off the event loop, at most `slots` at once; made once per process (in
    the app's lifespan) and shared by every request."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("at least one decode slot is needed")
        self._slots = asyncio.Semaphore(slots)

    async def render(self, render: Render, data: bytes) -> list[Rendition]:
        """`render(data)` in a worker thread, once a slot is free."""
        async with self._slots:
            return await asyncio.to_thread(render, data)
