"""Keeps a fan-out worker running: a worker that dies is logged with its traceback and
replaced after a bounded backoff; `health()` says whether it is alive and going, for
/readyz."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum

from jobs.backoff import Backoff, wait_unless_stopped
from jobs.worker import FanoutWorker

logger = logging.getLogger(__name__)

# Restarts back off so a worker dying at once (a backend refusing it) does not spin; one that
# ran this long before dying is restarted at once again.
RESTART_FIRST_SECONDS = 0.5
RESTART_MOST_SECONDS = 30.0
# A healthy loop beats at least every few seconds: a read waits at most READ_BLOCK_MS, a
# backoff at most BACKOFF_MOST_SECONDS, a job a fraction of a second (10k feeds). This long
# without a beat, it is stuck: hanging on something that never answers.
WORKER_STUCK_SECONDS = 30.0


class WorkerState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"  # the last worker died; a new one starts after a backoff
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    state: WorkerState
    seconds_since_beat: float | None
    stuck: bool
    restarts: int
    last_death: str | None  # the traceback of the last worker that died

    @property
    def alive(self) -> bool:
        return self.state is WorkerState.RUNNING and not self.stuck


class Supervisor:
    def __init__(
        self,
        make_worker: Callable[[], FanoutWorker],
        *,
        stuck_after_seconds: float = WORKER_STUCK_SECONDS,
        restart_first_seconds: float = RESTART_FIRST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make_worker = make_worker
        self._stuck_after = stuck_after_seconds
        self._restart_first = restart_first_seconds
        self._clock = clock
        self._state = WorkerState.STARTING
        self._worker: FanoutWorker | None = None
        self._task: asyncio.Task[None] | None = None
        self._restarts = 0
        self._last_death: str | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Supervisor]:
        """Runs in a task of its own while the block runs; stopped (and awaited) after."""
        stop = asyncio.Event()
        self._task = asyncio.create_task(self.run(stop), name="fan-out supervisor")
        try:
            yield self
        finally:
            stop.set()
            await self._task

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff(self._restart_first, RESTART_MOST_SECONDS)
        try:
            while not stop.is_set():
                self._worker = self._make_worker()
                self._state = WorkerState.RUNNING
                started = self._clock()
                try:
                    await self._worker.run(stop)
                except Exception:
                    self._restarts += 1
                    self._last_death = traceback.format_exc()
                    if self._clock() - started > RESTART_MOST_SECONDS:
                        backoff.reset()
                    delay = backoff.next_delay()
                    logger.exception("fan-out worker died; a new one starts in %.1f s", delay)
                    self._state = WorkerState.RESTARTING
                    await wait_unless_stopped(delay, stop)
        finally:
            self._state = WorkerState.STOPPED

    def health(self) -> WorkerHealth:
        state = self._state
        if self._task is not None and self._task.done() and state is not WorkerState.STOPPED:
            state = WorkerState.STOPPED  # the supervisor itself ended: nothing runs jobs
        since_beat = None
        if self._worker is not None and state is WorkerState.RUNNING:
            since_beat = self._clock() - self._worker.last_beat
        return WorkerHealth(
            state=state,
            seconds_since_beat=since_beat,
            stuck=since_beat is not None and since_beat > self._stuck_after,
            restarts=self._restarts,
            last_death=self._last_death,
        )
