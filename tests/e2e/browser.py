"""Debian's headless Chromium, driven over the DevTools protocol with `websockets`.

Only what the browser tests need: start Chromium, open a page in a fresh incognito-like context,
evaluate JavaScript, wait for a condition and record the DevTools events the page emits.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package, installed by `make system-packages`
TIMEOUT_SECONDS = 30.0  # generous for a loaded CI machine; a healthy run needs a few seconds
POLL_INTERVAL_SECONDS = 0.1
# Chromium writes its DevTools port here once it listens (we ask for port 0: no port races).
DEVTOOLS_PORT_FILE = "DevToolsActivePort"
LOG_TAIL_CHARACTERS = 3_000  # enough for the reason Chromium gives when it cannot start

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # tests may run as root in a container, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    # Every host but the loopback fails to resolve: a page that needs the internet breaks here
    # as it would offline, instead of quietly fetching from a CDN.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1400,900",
    "--remote-debugging-port=0",
)


class BrowserError(Exception):
    """The browser reported an error for a command, or a script threw."""


class DevTools:
    """One WebSocket to the browser; page sessions share it (flattened sessions)."""

    def __init__(self, websocket: ClientConnection) -> None:
        self._websocket = websocket
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: defaultdict[str | None, list[dict[str, Any]]] = defaultdict(list)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self._websocket:
                message = json.loads(raw)
                if "id" in message:
                    future = self._pending.pop(message["id"], None)
                    if future is not None and not future.done():
                        future.set_result(message)
                else:
                    self.events[message.get("sessionId")].append(message)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(BrowserError("the DevTools connection closed"))

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        if self._reader.done():
            raise BrowserError(f"{method}: the DevTools connection is closed")
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._websocket.send(json.dumps(message))
        async with asyncio.timeout(TIMEOUT_SECONDS):
            reply = await future
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    async def close(self) -> None:
        await self._websocket.close()
        with contextlib.suppress(Exception):
            await self._reader


class Page:
    """A tab in its own browser context: cookies and localStorage start empty."""

    def __init__(self, devtools: DevTools, session_id: str) -> None:
        self._devtools = devtools
        self._session_id = session_id

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await self._devtools.send(method, params, self._session_id)

    def events(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every `method` event received so far, oldest first."""
        return [
            event["params"]
            for event in self._devtools.events[self._session_id]
            if event["method"] == method
        ]

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of `expression` (awaited when it is a promise)."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            description = details.get("exception", {}).get("description", details.get("text"))
            raise BrowserError(f"{expression!r} threw: {description}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, what: str) -> Any:
        """Polls `expression` until it is truthy; returns that value or fails saying `what`."""
        deadline = time.monotonic() + TIMEOUT_SECONDS
        value = None
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(POLL_INTERVAL_SECONDS)
        pytest.fail(f"timed out after {TIMEOUT_SECONDS:.0f} s waiting for {what}; last: {value!r}")

    async def navigate(self, url: str) -> None:
        """Opens `url` and waits for its load event: its scripts and stylesheets have run."""
        loads_before = len(self.events("Page.loadEventFired"))
        result = await self.send("Page.navigate", url=url)
        if "errorText" in result:
            raise BrowserError(f"could not open {url}: {result['errorText']}")
        await self._wait_until(
            lambda: len(self.events("Page.loadEventFired")) > loads_before, f"{url} to load"
        )

    async def _wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {TIMEOUT_SECONDS:.0f} s waiting for {what}")
            await asyncio.sleep(POLL_INTERVAL_SECONDS)

    async def wait_for_event(self, method: str, matches: Callable[[dict[str, Any]], bool]) -> None:
        """Waits until an event `method` whose parameters satisfy `matches` has arrived."""
        await self._wait_until(
            lambda: any(matches(params) for params in self.events(method)), f"a {method} event"
        )

    async def screenshot(self) -> bytes:
        """The visible part of the page as PNG: handy while debugging a failing test."""
        result = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(result["data"])


class Browser:
    def __init__(self, devtools: DevTools) -> None:
        self._devtools = devtools

    @asynccontextmanager
    async def new_page(self) -> AsyncIterator[Page]:
        """A blank tab in a fresh context, with the Page, Runtime, Network and Log events on."""
        context = await self._devtools.send("Target.createBrowserContext")
        context_id = context["browserContextId"]
        try:
            target = await self._devtools.send(
                "Target.createTarget", {"url": "about:blank", "browserContextId": context_id}
            )
            attached = await self._devtools.send(
                "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
            )
            page = Page(self._devtools, attached["sessionId"])
            for domain in ("Page", "Runtime", "Network", "Log"):
                await page.send(f"{domain}.enable")
            yield page
        finally:
            # A browser that died has nothing left to dispose of; let the test's own error show.
            with contextlib.suppress(BrowserError, TimeoutError):
                await self._devtools.send(
                    "Target.disposeBrowserContext", {"browserContextId": context_id}
                )


def require_chromium() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test`, which installs Chromium "
            "(`make system-packages`) before running the tests."
        )
    return CHROMIUM


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-LOG_TAIL_CHARACTERS:]


async def _devtools_url(user_data_dir: Path, process: asyncio.subprocess.Process, log: Path) -> str:
    port_file = user_data_dir / DEVTOOLS_PORT_FILE
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.returncode is not None:
            pytest.fail(
                f"Chromium exited at startup with status {process.returncode}:\n{_tail(log)}"
            )
        # Chromium writes the port, then the path: wait until both lines are there.
        lines = port_file.read_text().splitlines() if port_file.exists() else []
        if len(lines) >= 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
    pytest.fail(f"Chromium did not open its DevTools port within {TIMEOUT_SECONDS:.0f} s")


@asynccontextmanager
async def launch_chromium() -> AsyncIterator[Browser]:
    """Headless Chromium with a throwaway profile; killed and removed on the way out."""
    executable = require_chromium()
    root = Path(tempfile.mkdtemp(prefix="pictograph-chromium-"))
    user_data_dir, log = root / "profile", root / "chromium.log"
    # A file rather than a pipe: nobody reads Chromium's chatter unless it fails to start.
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            str(executable),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={user_data_dir}",
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
            # Its own process group, so that its renderer and GPU processes go with it.
            start_new_session=True,
        )
    devtools: DevTools | None = None
    try:
        url = await _devtools_url(user_data_dir, process, log)
        devtools = DevTools(await connect(url, max_size=None, open_timeout=TIMEOUT_SECONDS))
        yield Browser(devtools)
    finally:
        if devtools is not None:
            await devtools.close()
        await _stop(process)
        shutil.rmtree(root, ignore_errors=True)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS / 3):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    # Helpers that outlived the main process (renderers) share its process group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
