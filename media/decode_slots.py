"""A per-process bound on media decoding (images, and video probes and transcodes in slots of
their own): however many requests render at once, at most a
few images are decoded at the same time, and the others wait their turn.

A decode is the most memory one request can make the process hold and keeps a core busy for
seconds, so the bound is on both: one slot per core, and never more than
MAX_CONCURRENT_DECODES. The slots are threads of their own, which is the bound itself (a
render waits in their queue) and bounds what decodes leave behind: glibc keeps a thread's
freed image memory in that thread's malloc arena, so decodes spread over the event loop's
default executor (up to 32 threads) could each keep a decode's worth; here, one per slot.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Self, TypeVar

from media.image import Render, Rendition

# A 7000x7000 PNG with transparency peaks at ~450 MB while it renders (as RGB, ~260 MB; a
# JPEG, decoded scaled down, ~30 MB): four at once stay under 2 GB per process, and cores
# beyond four are left to the requests that are not decoding.
MAX_CONCURRENT_DECODES = 4
# Video transcodes at once per process (jobs/video.py): each runs x264 on
# media.video.ENCODER_THREADS cores and holds a clip's source and rendition (up to ~100 MB
# and ~30 MB), so two keep a worker to four cores and ~300 MB, and leave fan-out room.
MAX_CONCURRENT_TRANSCODES = 2

ResultT = TypeVar("ResultT")


def default_decode_slots() -> int:
    """One slot per core, at most MAX_CONCURRENT_DECODES."""
    return max(1, min(os.cpu_count() or 1, MAX_CONCURRENT_DECODES))


class DecodeSlots:
    """Runs renders off the event loop, at most `slots` at once, in the order they came;
    made once per process (in the app's lifespan, which closes it), shared by every request."""

    def __init__(self, slots: int, *, name: str = "decode") -> None:
        if slots < 1:
            raise ValueError("at least one decode slot is needed")
        self._threads = ThreadPoolExecutor(max_workers=slots, thread_name_prefix=name)

    async def render(self, render: Render, data: bytes) -> list[Rendition]:
        """`render(data)` on a decode thread, once one is free (a render still waiting when
        its request is cancelled never runs)."""
        return await self.run(render, data)

    async def run(self, work: Callable[..., ResultT], *args: object) -> ResultT:
        """`work(*args)` on one of the slots, once one is free: any CPU-bound media work
        (a video probe, a transcode), bounded as renders are."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, work, *args)

    def close(self) -> None:
        """Let the renders in progress finish, and stop the decode threads."""
        self._threads.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
