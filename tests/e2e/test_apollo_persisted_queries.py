"""Persisted queries as Apollo Client 3 sends them: `createPersistedQueryLink` with a SHA-256
from node:crypto (tests/e2e/node/persisted_client.mjs), and manifests that Apollo's
`generate-persisted-query-manifest` writes.

Against the shared server (development: automatic persisted queries) the link misses, sends
the document, and from then on sends the hash alone. Against a server that requires trusted
documents, a team's manifest is registered as `pictograph register-manifest` registers it,
and the link sends the manifest's ids (`generatePersistedQueryIdsAtRuntime`, the hash of the
document with its definitions sorted, as the manifest generator hashes them).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.trusted.registration import read_manifest, register_documents
from tests.e2e.node_tools import (
    PersistedOutcome,
    PersistedRequest,
    generate_persisted_query_manifest,
    run_persisted_query_client,
)
from tests.persisted import PERSISTED_QUERY_NOT_IN_LIST, TrustedServer, trusted_server

# A team's query whose fragments come out of name order: the manifest generator sorts the
# definitions before hashing, so only the link's sorted hash finds it.
TEAM_QUERY = """query TeamViewer { viewer { ...ZViewerFields } }
fragment ZViewerFields on User { id ...AViewerName }
fragment AViewerName on User { username }
"""
UNREGISTERED = "query NobodyRegisteredThis { viewer { id username } }"


@pytest.fixture(scope="module")
async def trusted(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TrustedServer]:
    async with trusted_server(redis_url, str(tmp_path_factory.mktemp("trusted-e2e"))) as server:
        yield server


def unique_query() -> str:
    """A query this server has not seen: its alias is new."""
    return f"query Fresh {{ v{uuid.uuid4().hex}: viewer {{ id }} }}"


def ran(outcome: PersistedOutcome) -> None:
    assert outcome.error is None and outcome.result is not None, outcome
    assert "errors" not in outcome.result, outcome.result


async def test_given_a_new_query_when_apollos_link_sends_it_then_it_misses_once_and_then_hits(
    server_url: str,
) -> None:
    # Given a query the server has never seen
    query = unique_query()
    # When Apollo's link sends it twice
    first, second = await run_persisted_query_client(
        f"{server_url}/graphql", [query, query], ids="sha256"
    )
    # Then the first time its hash missed and the link sent the document with it
    ran(first)
    assert [(r.hash is not None, r.sent_document) for r in first.requests] == [
        (True, False),
        (True, True),
    ]
    # and the second time the hash alone was enough
    ran(second)
    assert [(r.sent_document, r.status) for r in second.requests] == [(False, 200)]
    assert first.requests[0].hash == second.requests[0].hash


async def test_given_a_persisted_query_when_another_client_sends_its_hash_by_get_then_it_hits(
    server_url: str,
) -> None:
    # Given a query that one client persisted
    query = unique_query()
    await run_persisted_query_client(f"{server_url}/graphql", [query], ids="sha256")
    # When another client (a fresh link, another process) sends it with hashed GETs
    [outcome] = await run_persisted_query_client(
        f"{server_url}/graphql", [query], ids="sha256", use_get=True
    )
    # Then one GET with the hash alone ran it
    ran(outcome)
    assert [(r.method, r.sent_document, r.status) for r in outcome.requests] == [
        ("GET", False, 200)
    ]


async def registered_team_manifest(trusted: TrustedServer, tmp_path: Path) -> None:
    """A team's manifest, written by Apollo's generator from its .graphql files, registered."""
    documents_dir = tmp_path / "src"
    documents_dir.mkdir()
    (documents_dir / "viewer.graphql").write_text(TEAM_QUERY)
    manifest_path = tmp_path / "persisted-query-manifest.json"
    manifest = generate_persisted_query_manifest(documents_dir, manifest_path)
    assert [operation["name"] for operation in manifest["operations"]] == ["TeamViewer"]
    await register_documents(
        trusted.runtime.database, read_manifest(manifest_path), source="web-team"
    )


async def test_given_a_registered_manifest_when_apollo_sends_its_operation_then_one_request_runs_it(
    trusted: TrustedServer, tmp_path: Path
) -> None:
    # Given the team's registered manifest
    await registered_team_manifest(trusted, tmp_path)
    # When Apollo's link sends the operation by its manifest id
    [outcome] = await run_persisted_query_client(
        f"{trusted.url}/graphql", [TEAM_QUERY], ids="sorted-sha256"
    )
    # Then one request with the id alone ran it (no token: no viewer)
    ran(outcome)
    assert outcome.result is not None and outcome.result["data"] == {"viewer": None}
    assert outcome.requests == [
        PersistedRequest(
            method="POST", hash=outcome.requests[0].hash, sent_document=False, status=200
        )
    ]


async def test_given_a_registered_manifest_when_the_link_hashes_the_unsorted_text_then_refused(
    trusted: TrustedServer, tmp_path: Path
) -> None:
    """Why a trusted-documents client needs generatePersistedQueryIdsAtRuntime (or the
    manifest's ids): the plain sha256 link hashes the document as written."""
    # Given the team's registered manifest
    await registered_team_manifest(trusted, tmp_path)
    # When the automatic persisted queries link sends the same operation
    [outcome] = await run_persisted_query_client(
        f"{trusted.url}/graphql", [TEAM_QUERY], ids="sha256"
    )
    # Then its hash is not the manifest's id, and it is refused
    assert outcome.error is not None, outcome
    codes = [error["extensions"]["code"] for error in outcome.error["graphQLErrors"]]
    assert codes == [PERSISTED_QUERY_NOT_IN_LIST]


async def test_given_trusted_documents_when_apollo_sends_an_unregistered_operation_then_refused(
    trusted: TrustedServer,
) -> None:
    # When Apollo's link sends an operation that no manifest holds
    [outcome] = await run_persisted_query_client(
        f"{trusted.url}/graphql", [UNREGISTERED], ids="sorted-sha256"
    )
    # Then it rejects with PERSISTED_QUERY_NOT_IN_LIST after one request: the link does not
    # send the document, which would be refused too
    assert outcome.result is None and outcome.error is not None, outcome
    codes = [error["extensions"]["code"] for error in outcome.error["graphQLErrors"]]
    assert codes == [PERSISTED_QUERY_NOT_IN_LIST]
    assert [r.sent_document for r in outcome.requests] == [False]
