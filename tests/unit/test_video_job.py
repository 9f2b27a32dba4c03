"""The video job on the job stream: its entry round-trips, a broken one is malformed, and the
worker keeps beating while one runs (a transcode takes seconds on purpose)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jobs import worker as worker_module
from jobs.worker import FanoutWorker
from storage.fanout_queue import Delivery, MalformedJob, job_of
from storage.video import VideoJob, VideoOwner

JOB = VideoJob(VideoOwner.STORY, 42, "uploads/7/abc")


def encoded(job: VideoJob) -> dict[bytes, bytes]:
    return {name.encode(): value.encode() for name, value in job.fields().items()}


def test_a_video_job_round_trips_through_its_stream_entry() -> None:
    assert job_of(encoded(JOB)) == JOB


@pytest.mark.parametrize(
    "broken", [{b"owner": b"album"}, {b"owner_id": b"x"}, {b"source_key": None}]
)
def test_a_broken_video_job_is_malformed(broken: dict[bytes, bytes | None]) -> None:
    fields = {**encoded(JOB), **broken}
    entry = {name: value for name, value in fields.items() if value is not None}

    with pytest.raises(MalformedJob, match="not a video job"):
        job_of(entry)


class AckingQueue:
    def __init__(self) -> None:
        self.acked: list[str] = []

    async def ack(self, entry_id: str) -> None:
        self.acked.append(entry_id)


class Services:
    def __init__(self) -> None:
        self.stores = type("Stores", (), {"fanout": AckingQueue()})()


async def test_the_worker_beats_while_a_video_job_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a video job that takes a while, when the worker does it, then it beats
    throughout (the supervisor's stuck check reads the beats), and acknowledges it after."""
    beats = 0

    def clock() -> float:
        nonlocal beats
        beats += 1
        return float(beats)

    async def slow_job(services: Any, job: Any) -> None:
        await asyncio.sleep(0.3)

    monkeypatch.setattr(worker_module, "run_job", slow_job)
    monkeypatch.setattr(worker_module, "VIDEO_BEAT_SECONDS", 0.02)
    services = Services()
    worker = FanoutWorker(services, "test", clock=clock)  # type: ignore[arg-type]
    beats = 0

    await worker._attempt(Delivery("1-0", encoded(JOB), deliveries=1))

    assert beats >= 5
    assert services.stores.fanout.acked == ["1-0"]
