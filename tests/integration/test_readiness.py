"""/readyz and the fan-out worker: a server whose own worker is dead or stuck is unready; a
server whose fan-out runs in separate worker processes reports the queue and stays ready.
Each test has a redis-server of its own, so no other test's worker touches its queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.main import create_app
from app.readiness import fanout_report
from app.services import Runtime, open_runtime
from jobs.supervisor import Supervisor
from jobs.worker import FanoutWorker
from storage.fanout_queue import GROUP, FanoutJob, FanoutOp, FanoutQueue, QueueStream, queue_key
from tests.client import GraphQLClient
from tests.conftest import make_settings
from tests.integration.test_feed import post
from tests.servers import RedisProcess, app_server, free_port

WAIT_SECONDS = 20  # only bounds a failing test
STUCK_AFTER_SECONDS = 0.2  # a worker this long without a beat counts as stuck, here
CLAIM_IDLE_MS = 10  # for the report's queue: a pending job soon counts as not taken up


@asynccontextmanager
async def served(
    redis_process: RedisProcess, *, fanout_in_server: bool
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    settings = make_settings(redis_process.url, port=free_port(), fanout_in_server=fanout_in_server)
    app = create_app(settings)
    async with (
        app_server(app, settings.port) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield app, http


@pytest.fixture
async def runtime(redis_process: RedisProcess) -> AsyncIterator[Runtime]:
    async with open_runtime(make_settings(redis_process.url)) as runtime:
        yield runtime


async def readyz_until(http: httpx.AsyncClient, status_code: int) -> Any:
    for _ in range(WAIT_SECONDS * 20):
        response = await http.get("/readyz")
        if response.status_code == status_code:
            return response.json()
        await asyncio.sleep(0.05)
    pytest.fail(f"/readyz never answered {status_code}: {response.text}")


async def test_readyz_is_503_with_the_death_while_the_in_server_worker_keeps_dying(
    redis_process: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with served(redis_process, fanout_in_server=True) as (app, http):
        assert (await http.get("/readyz")).status_code == 200
        queue = app.state.runtime.jobs.stores.fanout

        async def broken() -> int:
            raise RuntimeError("the worker loop is broken")

        monkeypatch.setattr(queue, "relay_outbox", broken)
        unready = await readyz_until(http, 503)
        monkeypatch.undo()  # mended: the next restart stays up
        ready = await readyz_until(http, 200)

    worker = unready["fanout"]["worker"]
    assert (worker["state"], worker["alive"]) == ("restarting", False)
    assert worker["restarts"] >= 1
    assert "RuntimeError: the worker loop is broken" in worker["last_death"]
    assert unready["backends"] == {
        "mongodb": "ok",
        "redis": "ok",
        "object_storage": "ok",
        "event_bus": "ok",
    }
    assert ready["fanout"]["worker"]["state"] == "running"


async def test_a_worker_hanging_in_a_job_is_stuck_and_the_server_unready(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = runtime.jobs
    never = asyncio.Event()

    async def hanging(post_ids: list[int]) -> dict[int, Any]:
        await never.wait()
        return {}

    monkeypatch.setattr(jobs.stores.posts, "find_by_ids", hanging)
    await jobs.stores.fanout.enqueue(FanoutJob(FanoutOp.PUSH, 1, 2), now=runtime.services.clock())
    supervisor = Supervisor(
        lambda: FanoutWorker(jobs, "hanging"), stuck_after_seconds=STUCK_AFTER_SECONDS
    )

    async with supervisor.running():
        for _ in range(WAIT_SECONDS * 20):
            if supervisor.health().stuck:
                break
            await asyncio.sleep(0.05)
        report, ready = await fanout_report(jobs.stores.fanout, supervisor)
        never.set()

    assert not ready
    assert report["worker"]["stuck"] and not report["worker"]["alive"]
    assert report["worker"]["state"] == "running"  # alive as a task, but going nowhere
    assert report["queue"]["pending"] == 1


async def test_with_separate_workers_the_backlog_is_reported_and_the_server_stays_ready(
    redis_process: RedisProcess,
) -> None:
    async with served(redis_process, fanout_in_server=False) as (_, http):
        graphql = GraphQLClient(http)
        await post(graphql, await graphql.sign_up())  # a job nobody takes here

        response = await http.get("/readyz")

    assert response.status_code == 200, response.text
    fanout = response.json()["fanout"]
    assert fanout["worker"].startswith("none in this process")
    assert (fanout["queue"]["lag"], fanout["queue"]["pending"]) == (1, 0)
    assert fanout["queue"]["oldest_job_seconds"] >= 0


async def test_a_job_left_pending_unclaimed_makes_a_server_with_a_worker_unready(
    runtime: Runtime,
) -> None:
    jobs = runtime.jobs
    queue = jobs.stores.fanout
    await queue.ensure_group()
    await queue.enqueue(FanoutJob(FanoutOp.PUSH, 1, 2), now=runtime.services.clock())
    # A consumer takes the job and is never heard of again; this worker does not claim it
    # (its claim idle time is a minute), so it waits longer than any claim period.
    await runtime.services.redis.xreadgroup(GROUP, "gone", {queue_key(QueueStream.JOBS): ">"})
    reported = FanoutQueue(
        runtime.services.redis, runtime.database["outbox"], claim_idle_ms=CLAIM_IDLE_MS
    )
    await asyncio.sleep(CLAIM_IDLE_MS / 1_000 * 5)
    supervisor = Supervisor(lambda: FanoutWorker(jobs, "alive"))

    async with supervisor.running():
        with_worker, ready_with_worker = await fanout_report(reported, supervisor)
    _, ready_without_worker = await fanout_report(reported, None)

    assert with_worker["queue"]["stuck"] and with_worker["queue"]["pending"] == 1
    assert with_worker["worker"]["alive"]
    assert not ready_with_worker
    assert ready_without_worker  # separate workers are watched on their own
