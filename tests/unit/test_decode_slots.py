"""The process's bound on image decodes: no more renders at once than it has slots."""

from __future__ import annotations

import asyncio
import threading

import pytest

from media.decode_slots import DecodeSlots
from media.image import Rendition

SLOTS = 2
RENDERS = 6
# Only against a hang when the behaviour is broken; nothing here measures time.
HANG_GUARD_SECONDS = 30


async def test_no_more_renders_run_at_once_than_there_are_slots() -> None:
    """Given six renders started together on two slots, each holding its slot until it is
    let go, when they are let go one at a time, then two run at once, never more, and each
    returns its own result."""
    loop = asyncio.get_running_loop()
    starts: asyncio.Queue[None] = asyncio.Queue()  # one item as each render starts
    lock = threading.Lock()
    let_go = threading.Semaphore(0)
    running = most_running = 0

    def render(data: bytes) -> list[Rendition]:
        nonlocal running, most_running
        with lock:
            running += 1
            most_running = max(most_running, running)
        loop.call_soon_threadsafe(starts.put_nowait, None)
        let_go.acquire()
        with lock:
            running -= 1
        return [Rendition(1, 1, data)]

    with DecodeSlots(SLOTS) as slots:
        renders = asyncio.gather(*(slots.render(render, bytes([i])) for i in range(RENDERS)))
        try:
            seen = 0
            for released in range(RENDERS):
                while seen < min(RENDERS, released + SLOTS):  # a slot is free for each let go
                    async with asyncio.timeout(HANG_GUARD_SECONDS):
                        await starts.get()
                    seen += 1
                let_go.release()
            results = await renders
        finally:
            let_go.release(RENDERS)  # never leave a decode thread waiting

    assert most_running == SLOTS
    assert [result[0].data for result in results] == [bytes([index]) for index in range(RENDERS)]


async def test_a_render_that_fails_frees_its_slot() -> None:
    """Given one slot, when a render raises, then the error reaches the caller and the
    next render runs."""

    def broken(data: bytes) -> list[Rendition]:
        raise ValueError("undecodable")

    with DecodeSlots(1) as slots:
        with pytest.raises(ValueError, match="undecodable"):
            await slots.render(broken, b"")
        assert await slots.render(lambda data: [Rendition(1, 1, data)], b"x") == [
            Rendition(1, 1, b"x")
        ]


def test_a_bound_of_no_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        DecodeSlots(0)
