"""Real servers for the integration tests, each on a free loopback port.

A server that cannot start fails the test that needs it, with the reason: never a skip.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
import redis
import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT_SECONDS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway `redis-server` (Debian package; `make test` installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make test`, which installs it")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                directory,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            _wait_for_redis(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_for_redis(url: str, process: subprocess.Popen[bytes]) -> None:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"redis-server exited with {process.returncode}: {output}")
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
        finally:
            client.close()
    pytest.fail(f"redis-server did not answer on {url} within {STARTUP_TIMEOUT_SECONDS} s")


@asynccontextmanager
async def app_server(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` with uvicorn in this event loop; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if task.done():
            pytest.fail(f"the app did not start: {task.exception()!r}")
        if time.monotonic() > deadline:
            pytest.fail("the app did not start in time")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
