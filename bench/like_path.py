"""A like's latency with its notification job queued, and without: what notifications cost
the mutation (one stream entry), and what the job itself costs the worker.

Starts its own `redis-server`; MongoDB is mongomock (or PICTOGRAPH_TEST_MONGODB_URL). Each
round likes and unlikes one post by `--fans` accounts, through the resolvers as the
mutations run them; the modes alternate round by round so that drift in a noisy machine
falls on both alike. The job column runs the like's notification job once per like, as the
worker does after the mutation responded.

    .venv/bin/python -m bench.like_path   # --fans 200 --rounds 5
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import resolvers.notification
from app.services import open_runtime
from app.settings import Settings
from bench.stats import LatencyStats
from jobs.notification import run_notification_job
from resolvers.context import Context, Services
from resolvers.ids import to_global_id
from resolvers.like import like_post, unlike_post
from storage.fanout_queue import QueueStream, queue_key
from storage.notification import NotificationCause, NotificationJob
from storage.post import PostRecord
from storage.user import UserRecord
from tests.servers import redis_server


class Latencies(LatencyStats):
    def __init__(self) -> None:
        self.latencies: list[float] = []


async def _no_job(*_: object) -> None:
    return None


async def _user(services: Services, n: int) -> UserRecord:
    user_id = services.ids.next_id()
    return await services.stores.users.insert(
        user_id=user_id, username=f"bench_{n}_{user_id}", email=f"{user_id}@bench.io",
        password_hash="-", created_at=services.clock(),
    )  # fmt: skip


async def _run(fans: int, rounds: int) -> dict[str, Latencies]:
    with redis_server() as redis_url:
        settings = Settings.model_validate(
            {"redis_url": redis_url, "mongodb_url": os.environ.get("PICTOGRAPH_TEST_MONGODB_URL")}
        )
        async with open_runtime(settings) as runtime:
            services = runtime.services
            author = await _user(services, 0)
            post = PostRecord(
                id=services.ids.next_id(), author_id=author.id, caption="", hashtags=(),
                mention_ids=(), media=(), like_count=0, comment_count=0, preview_comments=(),
                created_at=services.clock(),
            )  # fmt: skip
            await services.stores.posts.insert(post, client_mutation_id=None)
            likers = [await _user(services, n + 1) for n in range(fans)]
            raw_post_id = to_global_id("Post", post.id)
            results = {name: Latencies() for name in ("like, with job", "like, without", "job")}
            queued = resolvers.notification.enqueue
            for round_number in range(rounds * 2):
                with_job = round_number % 2 == 0
                resolvers.notification.enqueue = queued if with_job else _no_job  # type: ignore[assignment]
                mode = results["like, with job" if with_job else "like, without"]
                for liker in likers:
                    context = Context.for_viewer(services, liker)
                    started = time.perf_counter()
                    payload = await like_post(context, raw_post_id)
                    mode.latencies.append(time.perf_counter() - started)
                    assert payload.errors == []
                    if with_job:
                        job = NotificationJob(NotificationCause.LIKES, post.id, liker.id)
                        started = time.perf_counter()
                        await run_notification_job(runtime.jobs, job)
                        results["job"].latencies.append(time.perf_counter() - started)
                for liker in likers:
                    await unlike_post(Context.for_viewer(services, liker), raw_post_id)
            resolvers.notification.enqueue = queued
            await services.redis.delete(queue_key(QueueStream.JOBS))  # no worker ran them
            return results


def main(
    fans: Annotated[int, typer.Option(help="Accounts liking the post each round.")] = 200,
    rounds: Annotated[int, typer.Option(help="Rounds of each mode, alternating.")] = 5,
) -> None:
    results = asyncio.run(_run(fans, rounds))
    table = Table(title=f"likePost, {fans} likers x {rounds} rounds per mode")
    for column in ("", "p50 ms", "p99 ms", "samples"):
        table.add_column(column, justify="right")
    for name, measured in results.items():
        table.add_row(
            name, f"{measured.p50_ms:.3f}", f"{measured.p99_ms:.3f}", str(len(measured.latencies))
        )
    Console().print(table)
    with_job, without = results["like, with job"], results["like, without"]
    Console().print(
        f"like p50 with the job queued / without: {with_job.p50_ms / without.p50_ms:.2f}"
    )


if __name__ == "__main__":
    typer.run(main)
