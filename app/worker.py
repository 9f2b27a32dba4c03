"""The fan-out worker: reads jobs from the Redis Stream and does them, at least once.

Runs as `pictograph worker` (any number of processes), or as a task inside the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from redis.exceptions import RedisError

from resolvers.context import Services
from resolvers.fanout import run_job

logger = logging.getLogger(__name__)

JOBS_PER_READ = 10
READ_BLOCK_MS = 1_000  # how long a read waits for a job: also how often the outbox is checked
RETRY_SECONDS = 1.0  # after a Redis failure


def consumer_name() -> str:
    """Unique per process, stable for its life: pending jobs are owned by this name."""
    return f"{socket.gethostname()}-{os.getpid()}"


async def run_fanout_worker(services: Services, consumer: str, stop: asyncio.Event) -> None:
    queue = services.stores.fanout
    while not stop.is_set():
        try:
            await queue.ensure_group()
            await queue.relay_outbox()
            jobs = await queue.claim_stale(consumer, count=JOBS_PER_READ)
            if not jobs:
                jobs = await queue.read(consumer, count=JOBS_PER_READ, block_ms=READ_BLOCK_MS)
            for entry_id, job in jobs:
                await run_job(services, job)
                await queue.ack(entry_id)
        except RedisError as error:
            logger.warning("fan-out worker waiting for Redis: %s", error)
            await asyncio.sleep(RETRY_SECONDS)
