"""The Node clients in tests/e2e/node, driven from pytest.

The frontend teams meet the API through Node packages (graphql-http's spec audit, graphql-ws's
client), so these tests run those very packages. `npm ci` runs at most once per session, and
only when node_modules is missing or older than package-lock.json. Node and npm missing fail
the test with the way to install them: never a skip.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

NODE_DIR = Path(__file__).parent / "node"
PACKAGE_LOCK = NODE_DIR / "package-lock.json"
# npm writes this copy of the lock file at the end of every install: its age is the install's.
INSTALLED_LOCK = NODE_DIR / "node_modules" / ".package-lock.json"
MINIMUM_NODE_MAJOR = 20  # graphql-ws 6 requires it (its package.json "engines")
INSTALL_HINT = (
    f"Node.js {MINIMUM_NODE_MAJOR}+ and npm are needed for the Node client tests. Debian 13: "
    "`apt-get install -y nodejs npm`; Debian 12 ships Node 18, so use NodeSource's `nodejs` "
    "(Node 20, npm included): https://github.com/nodesource/distributions"
)
NPM_CI_TIMEOUT_SECONDS = (
    300  # the few packages of package.json; generous for a slow registry mirror
)
SCRIPT_TIMEOUT_SECONDS = 30.0  # a script finishes in well under a second on a healthy server
OUTPUT_TAIL_CHARACTERS = 3_000  # enough for a Node stack trace

Requirement = Literal["MUST", "SHOULD", "MAY"]

_node_modules_checked = False


def _executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed. {INSTALL_HINT}")
    return path


def _require_node_version() -> None:
    completed = subprocess.run(
        [_executable("node"), "--version"], capture_output=True, text=True, check=False
    )
    version = completed.stdout.strip()  # "v20.20.2"
    major = version.lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < MINIMUM_NODE_MAJOR:
        pytest.fail(f"`node --version` says {version or completed.stderr!r}. {INSTALL_HINT}")


def node_modules_are_current() -> bool:
    return (
        INSTALLED_LOCK.exists() and INSTALLED_LOCK.stat().st_mtime >= PACKAGE_LOCK.stat().st_mtime
    )


def ensure_node_modules() -> None:
    """Run `npm ci` in tests/e2e/node unless node_modules matches package-lock.json already."""
    global _node_modules_checked
    if _node_modules_checked:
        return
    _require_node_version()
    npm = _executable("npm")
    # Locking the lock file keeps two pytest runs in this checkout from installing at once.
    with PACKAGE_LOCK.open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not node_modules_are_current():
            try:
                completed = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=NODE_DIR,
                    capture_output=True,
                    text=True,
                    timeout=NPM_CI_TIMEOUT_SECONDS,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                pytest.fail(f"`npm ci` in {NODE_DIR} took over {NPM_CI_TIMEOUT_SECONDS} s")
            if completed.returncode != 0:
                output = (completed.stdout + completed.stderr)[-OUTPUT_TAIL_CHARACTERS:]
                pytest.fail(f"`npm ci` in {NODE_DIR} exited with {completed.returncode}:\n{output}")
    _node_modules_checked = True


async def run_node_script(
    script: str,
    *args: str,
    stdin: object = None,
    limit_seconds: float = SCRIPT_TIMEOUT_SECONDS,
) -> list[Any]:
    """Run tests/e2e/node/<script>, `stdin` sent as JSON; returns its JSON lines, parsed.

    Asynchronous on purpose: the app under test serves from this same event loop.
    """
    ensure_node_modules()
    process = await asyncio.create_subprocess_exec(
        _executable("node"),
        str(NODE_DIR / script),
        *args,
        cwd=NODE_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    payload = b"" if stdin is None else json.dumps(stdin).encode()
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(payload), limit_seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"node {script} {' '.join(args)} ran over {limit_seconds} s")
    if process.returncode != 0:
        output = (stdout + stderr).decode(errors="replace")[-OUTPUT_TAIL_CHARACTERS:]
        pytest.fail(f"node {script} {' '.join(args)} exited with {process.returncode}:\n{output}")
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


@dataclass(frozen=True)
class AuditResult:
    """One of graphql-http's server audits, as audit.mjs prints it."""

    id: str
    name: str  # starts with its requirement: "MUST accept POST requests"
    status: Literal["ok", "error", "warn", "notice"]
    reason: str | None
    response: dict[str, Any] | None  # status, contentType and body of a failing audit

    @property
    def requirement(self) -> Requirement:
        for requirement in ("MUST", "SHOULD", "MAY"):
            if self.name.startswith(f"{requirement} "):
                return requirement
        raise ValueError(f"an audit name without its requirement level: {self.name!r}")

    @property
    def passed(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        return f"[{self.id}] {self.name}: {self.reason} (the server answered {self.response})"


async def audit_server(graphql_url: str) -> list[AuditResult]:
    """graphql-http's `auditServer`: the GraphQL over HTTP spec audit of `graphql_url`."""
    lines = await run_node_script("audit.mjs", graphql_url)
    return [
        AuditResult(
            id=line["id"],
            name=line["name"],
            status=line["status"],
            reason=line["reason"],
            response=line.get("response"),
        )
        for line in lines
    ]


@dataclass(frozen=True)
class WebSocketOutcome:
    """What graphql-ws's client got for one operation: results, errors, or a close."""

    results: list[dict[str, Any]] | None = None  # the operation ran: its execution results
    errors: list[dict[str, Any]] | None = None  # the server refused it (an `error` message)
    close_code: int | None = None  # the socket closed first (4403: connection_init refused)
    close_reason: str | None = None


async def execute_over_websocket(
    ws_url: str,
    query: str,
    *,
    variables: dict[str, Any] | None = None,
    connection_params: dict[str, Any] | None = None,
    take: int | None = None,
) -> WebSocketOutcome:
    """Run one operation with graphql-ws's `createClient` (graphql-transport-ws)."""
    request = _present(
        query=query, variables=variables, connectionParams=connection_params, take=take
    )
    [outcome] = await run_node_script("ws_client.mjs", ws_url, stdin=request)
    closed = outcome.get("closed") or {}
    return WebSocketOutcome(
        results=outcome.get("results"),
        errors=outcome.get("errors"),
        close_code=closed.get("code"),
        close_reason=closed.get("reason"),
    )


ApolloStepKind = Literal["query", "mutate", "watchQuery", "fetchMore", "extractCache"]


@dataclass(frozen=True)
class ApolloStep:
    """One call on the Apollo client: `watchQuery` keeps watching, `fetchMore` pages it,
    `extractCache` returns the normalised cache as its data."""

    kind: ApolloStepKind
    document: str | None = None  # the operation's text; fetchMore reuses the watched one
    variables: dict[str, Any] | None = None
    fetch_policy: str | None = None  # Apollo's own default (cache-first) when None
    connection: str | None = None  # fetchMore: the root field whose pageInfo.endCursor it pages


@dataclass(frozen=True)
class HttpExchange:
    """One HTTP request that Apollo's HttpLink made, and what came back."""

    accept: str | None
    status: int
    content_type: str | None


@dataclass(frozen=True)
class ApolloOutcome:
    """What Apollo Client handed the application for one step: a result, or an ApolloError."""

    kind: ApolloStepKind
    result: dict[str, Any] | None  # {"data": ..., "errors"?: [...]}
    error: dict[str, Any] | None  # {name, message, graphQLErrors, ..., networkError}
    requests: list[HttpExchange]  # none: the step was answered from Apollo's cache


async def run_apollo_client(
    graphql_url: str,
    steps: list[ApolloStep],
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    relay_pagination: dict[str, dict[str, list[str]]] | None = None,
) -> list[ApolloOutcome]:
    """Run `steps` in order through one ApolloClient (HttpLink, InMemoryCache) and its cache.

    `relay_pagination` ({"Query": {"feed": ["order"]}}) gives those fields Apollo's
    `relayStylePagination(keyArgs)`; without it the cache has Apollo's default options.
    """
    request = _present(
        steps=[
            _present(
                kind=step.kind,
                document=step.document,
                variables=step.variables,
                fetchPolicy=step.fetch_policy,
                connection=step.connection,
            )
            for step in steps
        ],
        token=token,
        headers=headers,
        relayPagination=relay_pagination,
    )
    lines = await run_node_script("apollo_client.mjs", graphql_url, stdin=request)
    return [
        ApolloOutcome(
            kind=line["kind"],
            result=line["result"],
            error=line["error"],
            requests=[
                HttpExchange(
                    accept=exchange["accept"],
                    status=exchange["status"],
                    content_type=exchange["contentType"],
                )
                for exchange in line["requests"]
            ],
        )
        for line in lines
    ]


def _present(**fields: Any) -> dict[str, Any]:
    """The fields that have a value: the Node scripts read a missing key as "not given"."""
    return {name: value for name, value in fields.items() if value is not None}


PersistedQueryIds = Literal["sha256", "sorted-sha256"]


@dataclass(frozen=True)
class PersistedRequest:
    """One HTTP request that Apollo's persisted-query link made, and its status."""

    method: str
    hash: str | None  # extensions.persistedQuery.sha256Hash
    sent_document: bool  # whether `query` went too
    status: int


@dataclass(frozen=True)
class PersistedOutcome:
    """What Apollo Client handed the application for one query: a result or an ApolloError."""

    result: dict[str, Any] | None
    error: dict[str, Any] | None
    requests: list[PersistedRequest]


async def run_persisted_query_client(
    graphql_url: str,
    documents: list[str],
    *,
    ids: PersistedQueryIds,
    use_get: bool = False,
    token: str | None = None,
) -> list[PersistedOutcome]:
    """Query each document in turn through one ApolloClient whose link is
    `createPersistedQueryLink` (persisted_client.mjs says what `ids` selects)."""
    request = _present(
        ids=ids, useGET=use_get or None, token=token, steps=[{"document": d} for d in documents]
    )
    lines = await run_node_script("persisted_client.mjs", graphql_url, stdin=request)
    return [
        PersistedOutcome(
            result=line["result"],
            error=line["error"],
            requests=[
                PersistedRequest(
                    method=sent["method"],
                    hash=sent["hash"],
                    sent_document=sent["sentDocument"],
                    status=sent["status"],
                )
                for sent in line["requests"]
            ],
        )
        for line in lines
    ]


def generate_persisted_query_manifest(documents_dir: Path, output: Path) -> dict[str, Any]:
    """Apollo's `generate-persisted-query-manifest` CLI over the .graphql files of
    `documents_dir`, as a frontend team runs it; returns the manifest it wrote."""
    ensure_node_modules()
    config = documents_dir / "persisted-query-manifest.config.json"
    config.write_text(
        json.dumps({"documents": [f"{documents_dir}/**/*.graphql"], "output": str(output)})
    )
    completed = subprocess.run(
        [str(NODE_DIR / "node_modules" / ".bin" / "generate-persisted-query-manifest"),
         "--config", str(config)],
        cwd=NODE_DIR, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        output_tail = (completed.stdout + completed.stderr)[-OUTPUT_TAIL_CHARACTERS:]
        pytest.fail(f"generate-persisted-query-manifest exited {completed.returncode}:\n{output_tail}")  # fmt: skip
    manifest: dict[str, Any] = json.loads(output.read_text())
    return manifest


@dataclass(frozen=True)
class RealtimeOutcome:
    """One step of realtime_client.mjs: what Apollo Client handed the application."""

    kind: Literal["query", "mutation", "subscription"]
    name: str | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    triggered: int | None  # a subscription: how many times its trigger ran


async def run_realtime_client(graphql_url: str, request: dict[str, Any]) -> list[RealtimeOutcome]:
    """Apollo Client with graphql-ws for subscriptions and HTTP for the rest
    (realtime_client.mjs says what `request` holds)."""
    lines = await run_node_script(
        "realtime_client.mjs", graphql_url, stdin=request, limit_seconds=60.0
    )
    return [
        RealtimeOutcome(
            kind=line["kind"],
            name=line.get("name"),
            result=line["result"],
            error=line["error"],
            triggered=line.get("triggered"),
        )
        for line in lines
    ]
