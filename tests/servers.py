"""Real servers for the integration tests, each on a free loopback port.

A server that cannot start fails the test that needs it, with the reason: never a skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
import pymongo
import pytest
import redis
import uvicorn
from botocore.exceptions import EndpointConnectionError
from pydantic import SecretStr
from pymongo.errors import PyMongoError
from starlette.applications import Starlette

from app.server import uvicorn_config
from app.settings import Settings

STARTUP_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 10
# `pictograph serve` is ready in 2-5 s here; the suite's load on two shared cores slows it.
APP_PROCESS_STARTUP_TIMEOUT_SECONDS = 60
REPOSITORY = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisProcess:
    """A throwaway `redis-server` (Debian package; `make test` installs it) on a fixed port,
    which a test may stop and start again to play an outage. `persistent`: what it holds
    survives the restart (an append-only file in `directory`), as a production Redis's does."""

    def __init__(self, directory: str, *, persistent: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run `make test`, which installs it")
        self._binary = binary
        self._directory = directory
        self._persistent = persistent
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes" if self._persistent else "no", "--dir", self._directory],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait_for_redis(self.url, self._process)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@contextmanager
def redis_server() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        server = RedisProcess(directory)
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


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


S3_TEST_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@contextmanager
def moto_s3_server(bucket: str) -> Iterator[str]:
    """moto's S3 in server mode (real HTTP), with `bucket` created; yields the endpoint."""
    binary = shutil.which("moto_server", path=os.path.dirname(sys.executable))
    if binary is None:
        pytest.fail("moto_server is not installed: run `make test`, which installs moto[server]")
    port = free_port()
    process = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", **S3_TEST_CREDENTIALS
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"moto_server exited with {process.returncode}: {output}")
            try:
                client.create_bucket(Bucket=bucket)
                break
            except EndpointConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not answer on {endpoint}")
                time.sleep(0.1)
        # Processed media are public, as they are behind a CDN; raw uploads are not.
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_media_policy(bucket)))
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def public_media_policy(bucket: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/media/*",
            }
        ],
    }


@asynccontextmanager
async def app_server(app: Starlette, port: int) -> AsyncIterator[str]:
    """Serve `app` (from create_app) with uvicorn in this event loop on `port`, configured
    as `pictograph serve` does; yields its base URL."""
    settings = app.state.settings.model_copy(update={"host": "127.0.0.1", "port": port})
    server = uvicorn.Server(uvicorn_config(app, settings, log_level="warning"))
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


TRITON_STARTUP_TIMEOUT_SECONDS = 60  # pytriton starts in ~3 s; the suite's load slows it
TRITON_STOP_TIMEOUT_SECONDS = 15


class TritonProcess:
    """`pictograph triton` (Triton Inference Server from the nvidia-pytriton wheel, on the
    CPU, serving the shipped model) on free ports, which a test may stop and start again on
    the same ports to play an outage."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        self.http_port, self.grpc_port, self.metrics_port = free_port(), free_port(), free_port()
        self.http_url = f"http://127.0.0.1:{self.http_port}"
        self.grpc_url = f"grpc://127.0.0.1:{self.grpc_port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: tempfile._TemporaryFileWrapper[bytes] | None = None

    def start(self) -> None:
        self._log = tempfile.NamedTemporaryFile(prefix="triton-", suffix=".log")  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import cli; cli()", "triton",
             "--http-port", str(self.http_port), "--grpc-port", str(self.grpc_port),
             "--metrics-port", str(self.metrics_port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: tritonserver and its stubs too
        )  # fmt: skip
        deadline = time.monotonic() + TRITON_STARTUP_TIMEOUT_SECONDS
        ready = f"{self.http_url}/v2/models/{self.model_name}/ready"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(f"`pictograph triton` exited with {self._process.returncode}: "
                            f"{self.output()}")  # fmt: skip
            try:
                if httpx.get(ready, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"Triton did not serve {self.model_name} within "
                    f"{TRITON_STARTUP_TIMEOUT_SECONDS} s: {self.output()}")  # fmt: skip

    def stop(self) -> None:
        """SIGINT, as Ctrl-C: pytriton stops tritonserver and its backend stubs; whatever of
        the group is left after the timeout is killed."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=TRITON_STOP_TIMEOUT_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=TRITON_STOP_TIMEOUT_SECONDS)

    @property
    def stopped(self) -> bool:
        return self._process is None

    def output(self) -> str:
        if self._log is None:
            return ""
        with open(self._log.name, "rb") as log:
            return log.read().decode(errors="replace")[-4_000:]

    def statistics(self) -> dict[str, Any]:
        """Triton's own statistics for the model (its HTTP /v2/models/<model>/stats)."""
        response = httpx.get(f"{self.http_url}/v2/models/{self.model_name}/stats", timeout=5)
        response.raise_for_status()
        (stats,) = response.json()["model_stats"]
        result: dict[str, Any] = stats
        return result

    def successful_requests(self) -> int:
        """Inference requests Triton answered: one per client call, however many rows."""
        return int(self.statistics()["inference_stats"]["success"]["count"])


@contextmanager
def triton_server(model_name: str) -> Iterator[TritonProcess]:
    server = TritonProcess(model_name)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class MongoWireProcess:
    """`python -m tests.mongo_wire` (a MongoDB wire-protocol server backed by mongomock, see
    tests/mongo_wire.py) on a free port, for several OS processes to share one database
    where no MongoDB server can be installed. Not MongoDB: mongomock's semantics."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"mongodb://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: tempfile._TemporaryFileWrapper[bytes] | None = None

    def start(self) -> None:
        self._log = tempfile.NamedTemporaryFile(prefix="mongo-wire-", suffix=".log")  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.mongo_wire", "--port", str(self.port)],
            cwd=REPOSITORY,
            env={**os.environ, "PYTHONPATH": _python_path()},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            self.url, serverSelectionTimeoutMS=200, connectTimeoutMS=200
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        try:
            while True:
                if self._process.poll() is not None:
                    pytest.fail(f"tests.mongo_wire exited with {self._process.returncode}: "
                                f"{self.output()}")  # fmt: skip
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    if time.monotonic() > deadline:
                        self.stop()
                        pytest.fail(f"tests.mongo_wire did not answer ping on {self.url} within "
                                    f"{STARTUP_TIMEOUT_SECONDS} s: {self.output()}")  # fmt: skip
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _terminate(process)

    def output(self) -> str:
        return _tail(self._log)


@contextmanager
def mongo_wire_server() -> Iterator[MongoWireProcess]:
    server = MongoWireProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def settings_environment(settings: Settings) -> dict[str, str]:
    """`settings` as the PICTOGRAPH_* variables `Settings()` reads them back from: what a
    process started with them is configured with (complex values as JSON, as
    pydantic-settings parses them; unset ones are left out, so they take their default)."""
    environment = {}
    dumped = settings.model_dump(mode="json")
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(dumped[name], str):
            text = dumped[name]
        else:
            text = json.dumps(dumped[name])
        environment[f"PICTOGRAPH_{name.upper()}"] = text
    return environment


class AppProcess:
    """`pictograph serve` in an OS process of its own, configured by `settings` through the
    environment only (in an empty working directory, so no .env file is read), on
    settings.port; `start` returns once its /readyz answers 200."""

    def __init__(self, settings: Settings, directory: str) -> None:
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.port}"
        self._directory = directory
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = os.path.join(directory, f"serve-{settings.port}.log")

    def launch(self) -> None:
        """Start the process without waiting for it (`wait_ready` waits): several start
        side by side."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PICTOGRAPH_")}
        environment = {**inherited, **settings_environment(self.settings)}
        environment["PYTHONPATH"] = _python_path()
        with open(self._log_path, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-c", "from app.cli import cli; cli()", "serve"],
                cwd=self._directory,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        assert self._process is not None, "launch() first"
        deadline = time.monotonic() + APP_PROCESS_STARTUP_TIMEOUT_SECONDS
        last = "no answer"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(f"`pictograph serve` exited with {self._process.returncode}: "
                            f"{self.output()}")  # fmt: skip
            try:
                response = httpx.get(f"{self.url}/readyz", timeout=2)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.TransportError as error:
                last = repr(error)
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"`pictograph serve` on {self.url} was not ready within "
                    f"{APP_PROCESS_STARTUP_TIMEOUT_SECONDS} s ({last}): {self.output()}")  # fmt: skip

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _terminate(process)

    def output(self) -> str:
        """The end of what the process wrote (uvicorn's log, and warnings and errors)."""
        return self.log()[-4_000:]

    def log(self) -> str:
        """Everything it wrote so far."""
        if not os.path.exists(self._log_path):
            return ""
        with open(self._log_path, "rb") as log:
            return log.read().decode(errors="replace")


@contextmanager
def app_processes(settings: list[Settings], directory: str) -> Iterator[list[AppProcess]]:
    """One `pictograph serve` process for each of `settings`, started side by side."""
    processes = [AppProcess(each, directory) for each in settings]
    try:
        for process in processes:
            process.launch()
        for process in processes:
            process.wait_ready()
        yield processes
    finally:
        for process in processes:
            process.stop()


def _python_path() -> str:
    """This checkout first, as the test process imports it (a worktree may be run with
    PYTHONPATH set, over an editable install of another checkout)."""
    return os.pathsep.join([str(REPOSITORY), *filter(None, [os.environ.get("PYTHONPATH")])])


def _terminate(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _tail(log: tempfile._TemporaryFileWrapper[bytes] | None) -> str:
    if log is None:
        return ""
    with open(log.name, "rb") as reading:
        return reading.read().decode(errors="replace")[-4_000:]
