"""`/healthz` and `/readyz`: whether load balancers should send this process traffic.

/readyz asks every backend, and reports the fan-out queue (its pending jobs, its lag, how
old the oldest job is, how many went to the dead letters) and, when this server runs a
fan-out worker, that worker. The server is unready (503) when a backend is down, or when its
own worker is dead, stuck, or leaves a job pending that nobody takes. A queue behind while
fan-out runs in separate `pictograph worker` processes is reported but does not make the
server unready: it still serves every request, and taking every server out of the load
balancer would turn late feeds into an outage; watch those workers on their own.

Ranking is reported the same way: with Triton down or its circuit open, the same model
serves in process, so the server stays ready and says "degraded" (status 200).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.services import Runtime
from jobs.supervisor import Supervisor
from storage.fanout_queue import FanoutQueue

READINESS_TIMEOUT_SECONDS = 2.0  # a probe that hangs longer counts as down
# A job pending this many claim idle times since its last delivery was not taken up again,
# though any worker may claim it after one: the workers are not doing their jobs.
STUCK_PENDING_CLAIM_PERIODS = 3


async def healthz(request: Request) -> JSONResponse:
    """The process is up; says nothing about the backends (that is /readyz)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Each backend answers and the fan-out worker is going."""
    runtime: Runtime = request.app.state.runtime
    supervisor: Supervisor | None = request.app.state.fanout_supervisor

    async def probe(name: str) -> tuple[str, str]:
        try:
            await asyncio.wait_for(runtime.probes[name](), READINESS_TIMEOUT_SECONDS)
        except Exception as error:
            return name, f"down: {type(error).__name__}"
        return name, "ok"

    probes = asyncio.gather(*(probe(name) for name in runtime.probes))
    backends, (fanout, fanout_ready), ranking = await asyncio.gather(
        probes, fanout_report(runtime.jobs.stores.fanout, supervisor), runtime.ranking_report()
    )
    results = dict(backends)
    ready = all(status == "ok" for status in results.values()) and fanout_ready
    status = "degraded" if ready and ranking.degraded else "ok" if ready else "unavailable"
    return JSONResponse(
        {"status": status, "backends": results, "fanout": fanout, "ranking": ranking.details},
        status_code=200 if ready else 503,
    )


async def fanout_report(
    queue: FanoutQueue, supervisor: Supervisor | None
) -> tuple[dict[str, Any], bool]:
    """What /readyz says about fan-out, and whether it lets the server be ready."""
    report: dict[str, Any] = {}
    queue_stuck = False
    try:
        stats = await asyncio.wait_for(queue.stats(), READINESS_TIMEOUT_SECONDS)
    except Exception as error:  # Redis down: its probe already makes the server unready
        report["queue"] = f"unknown: {type(error).__name__}"
    else:
        idle = stats.oldest_pending_idle_seconds
        stuck_after = queue.claim_idle_ms / 1_000 * STUCK_PENDING_CLAIM_PERIODS
        queue_stuck = idle is not None and idle > stuck_after
        report["queue"] = {**asdict(stats), "stuck": queue_stuck}
    if supervisor is None:
        report["worker"] = "none in this process: run `pictograph worker`"
        return report, True
    health = supervisor.health()
    report["worker"] = {**asdict(health), "alive": health.alive}
    return report, health.alive and not queue_stuck
