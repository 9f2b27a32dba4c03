"""The job worker: reads jobs from the Redis Stream and does them, at least once: fan-out
(jobs/fanout.py), notifications (jobs/notification.py) and video processing (jobs/video.py),
one queue and one worker for all. A video job takes seconds (its transcode runs on the
process's transcode slots, off the event loop, within its own bounds): the worker beats while
it runs, so the supervisor does not take it for stuck; the jobs behind it in this worker
wait meanwhile (more worker processes share the queue).

Runs as `pictograph worker` (any number of processes), or as a task inside the server;
either way under `jobs.supervisor.Supervisor`, which restarts it if it dies.

Each job is handled on its own, and what goes wrong is one of two kinds:
- transient (Redis or MongoDB unreachable, `TRANSIENT_ERRORS`): the worker backs off and
  tries the same job again, as long as it takes; nothing is lost and the job is not blamed.
- anything else (a script error, a bug, a post the job cannot handle): the job stays
  pending and is delivered again once it is claimable (the queue's claim idle time), by this
  worker or another; after MAX_DELIVERIES deliveries it moves to the dead-letter stream with
  the error. An entry that is not a job at all is dead-lettered at once: redoing it cannot
  help. Either way the worker goes on with the next job.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from pymongo.errors import ConnectionFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from jobs.backoff import Backoff, wait_unless_stopped
from jobs.context import JobServices
from jobs.fanout import run_fanout_job
from jobs.notification import run_notification_job
from jobs.video import give_up_video_job, run_video_job
from storage.fanout_queue import Delivery, FanoutJob, Job, MalformedJob
from storage.notification import NotificationJob
from storage.video import VideoJob

logger = logging.getLogger(__name__)

JOBS_PER_READ = 10
READ_BLOCK_MS = 1_000  # how long a read waits for a job: also how often the outbox is checked
VIDEO_BEAT_SECONDS = 1.0  # how often the worker beats while a video job runs
MAX_DELIVERIES = 5  # a job that failed this many times will not succeed by itself
# Transient failures: backoff doubles from the first delay up to the most, which stays well
# below the supervisor's stuck threshold, so a worker waiting for a backend is not "stuck".
BACKOFF_FIRST_SECONDS = 0.1
BACKOFF_MOST_SECONDS = 10.0
# A backend that is down or failing over, not a job that is wrong. pymongo's AutoReconnect
# (and NotPrimaryError, NetworkTimeout, ServerSelectionTimeoutError) are ConnectionFailures;
# a Redis replica answers READONLY while a failover promotes another.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    ConnectionFailure,
)


async def run_job(services: JobServices, job: Job) -> None:
    """Do one job of any kind, as the worker does."""
    if isinstance(job, FanoutJob):
        await run_fanout_job(services, job)
    elif isinstance(job, NotificationJob):
        await run_notification_job(services, job)
    else:
        await run_video_job(services, job)


def consumer_name() -> str:
    """Unique per process, stable for its life: pending jobs are owned by this name."""
    return f"{socket.gethostname()}-{os.getpid()}"


class FanoutWorker:
    def __init__(
        self,
        services: JobServices,
        consumer: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._services = services
        self._queue = services.stores.fanout
        self._consumer = consumer
        self._clock = clock
        self.last_beat = clock()  # when the loop last showed it is going; see Supervisor

    async def run(self, stop: asyncio.Event) -> None:
        """Do jobs until `stop` is set. Raises only what no job explains (a bug in the loop):
        the supervisor logs it and starts a fresh worker."""
        backoff = Backoff(BACKOFF_FIRST_SECONDS, BACKOFF_MOST_SECONDS)
        while not stop.is_set():
            self._beat()
            try:
                deliveries = await self._next_deliveries()
            except TRANSIENT_ERRORS as error:
                logger.warning("fan-out worker waiting for its backends: %r", error)
                await self._wait(backoff, stop)
                continue
            backoff.reset()
            for delivery in deliveries:
                if stop.is_set():
                    return  # the rest stay pending, and are claimed again later
                await self._handle(delivery, stop)

    async def _next_deliveries(self) -> list[Delivery]:
        await self._queue.ensure_group()
        await self._queue.relay_outbox()
        deliveries = await self._queue.claim_stale(self._consumer, count=JOBS_PER_READ)
        if deliveries:
            return deliveries
        return await self._queue.read(self._consumer, count=JOBS_PER_READ, block_ms=READ_BLOCK_MS)

    async def _handle(self, delivery: Delivery, stop: asyncio.Event) -> None:
        """One job, to its end: done, left for a later delivery, or dead-lettered."""
        backoff = Backoff(BACKOFF_FIRST_SECONDS, BACKOFF_MOST_SECONDS)
        while not stop.is_set():
            self._beat()
            try:
                await self._attempt(delivery)
                return
            except TRANSIENT_ERRORS as error:
                logger.warning(
                    "fan-out job %s waits for its backends: %r", delivery.entry_id, error
                )
                await self._wait(backoff, stop)

    async def _attempt(self, delivery: Delivery) -> None:
        if delivery.deliveries > MAX_DELIVERIES:  # its earlier deliveries never came back
            await self._dead_letter(
                delivery, f"delivered {delivery.deliveries} times and never acknowledged"
            )
            return
        try:
            job = delivery.job()
        except MalformedJob as error:
            await self._dead_letter(delivery, str(error))
            return
        try:
            if isinstance(job, VideoJob):
                await self._beating(run_job(self._services, job))
            else:
                await run_job(self._services, job)
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:
            if delivery.deliveries < MAX_DELIVERIES:
                logger.warning(
                    "fan-out job %s failed (delivery %d of %d), it will be redone",
                    delivery.entry_id, delivery.deliveries, MAX_DELIVERIES, exc_info=True,
                )  # fmt: skip
                return  # left pending: claimable again after the queue's claim idle time
            await self._dead_letter(delivery, "".join(traceback.format_exception(error)))
            return
        await self._queue.ack(delivery.entry_id)

    async def _dead_letter(self, delivery: Delivery, error: str) -> None:
        logger.error("fan-out job %s moved to the dead letters: %s", delivery.entry_id, error)
        await self._give_up(delivery)
        await self._queue.dead_letter(delivery, error)

    async def _give_up(self, delivery: Delivery) -> None:
        """What a job's kind does when the job is given up, before its dead letter: a video
        job's record leaves PROCESSING. Best effort: the dead letter is written anyway."""
        try:
            job = delivery.job()
        except MalformedJob:
            return
        if not isinstance(job, VideoJob):
            return
        try:
            await give_up_video_job(self._services, job)
        except Exception:
            logger.exception("could not fail the record of video job %s", delivery.entry_id)

    async def _wait(self, backoff: Backoff, stop: asyncio.Event) -> None:
        self._beat()  # waiting on purpose is not being stuck
        await wait_unless_stopped(backoff.next_delay(), stop)

    async def _beating(self, work: Coroutine[Any, Any, None]) -> None:
        """Await `work`, beating meanwhile: a transcode is long on purpose, and bounded by
        media.video's limits, not by the stuck threshold."""
        task = asyncio.ensure_future(work)
        try:
            while not task.done():
                self._beat()
                await asyncio.wait({task}, timeout=VIDEO_BEAT_SECONDS)
        finally:
            if not task.done():
                task.cancel()
        self._beat()
        task.result()

    def _beat(self) -> None:
        self.last_beat = self._clock()
