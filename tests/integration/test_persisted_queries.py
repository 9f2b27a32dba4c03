"""Automatic persisted queries (development's default) and trusted documents (production's),
over HTTP POST and GET and over graphql-transport-ws.

The shared `graphql` server runs any document (APQ); `trusted` is a server of this module's
own that runs only trusted documents.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from app.trusted.manifest import MANIFEST_FORMAT, document_id
from app.trusted.registration import read_manifest, register_documents
from storage.persisted_query import (
    MAX_PERSISTED_QUERY_BYTES,
    PERSISTED_QUERY_TTL,
    persisted_query_key,
)
from tests.client import GraphQLClient
from tests.contract import operation_source
from tests.persisted import (
    PERSISTED_QUERY_NOT_FOUND,
    PERSISTED_QUERY_NOT_IN_LIST,
    TrustedServer,
    error_codes,
    persisted_body,
    persisted_extensions,
    sha256,
    trusted_server,
    unique_document,
)

GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")
NOT_FOUND = [("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)]
NOT_IN_LIST_MESSAGE = (
    "This operation is not a trusted document: only registered persisted queries run here."
)
NOT_IN_LIST = [(NOT_IN_LIST_MESSAGE, PERSISTED_QUERY_NOT_IN_LIST)]


@pytest.fixture(scope="module")
async def trusted(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TrustedServer]:
    async with trusted_server(redis_url, str(tmp_path_factory.mktemp("trusted"))) as server:
        yield server


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def post(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def get(
    http: httpx.AsyncClient, sha256_hash: str, accept: str = "application/json"
) -> httpx.Response:
    """What the link sends with useGETForHashedQueries: the hash in the query string."""
    params = {"extensions": json.dumps(persisted_extensions(sha256_hash)), "variables": "{}"}
    return await http.get("/graphql", params=params, headers={"accept": accept})


def manifest_file(tmp_path: Path, operations: list[dict[str, str]]) -> Path:
    path = tmp_path / "persisted-query-manifest.json"
    path.write_text(json.dumps({"format": MANIFEST_FORMAT, "version": 1, "operations": operations}))
    return path


def manifest_operation(name: str, body: str) -> dict[str, str]:
    return {"id": document_id(body), "name": name, "type": "query", "body": body}


# Automatic persisted queries


def data_of(body: dict[str, Any]) -> Any:
    """What the operation answered (beside it, extensions report the request's cost)."""
    assert "errors" not in body, body
    return body["data"]


async def test_given_an_unknown_hash_alone_when_posted_then_persisted_query_not_found(
    graphql: GraphQLClient,
) -> None:
    # Given a document the server has never seen
    document = unique_document()
    # When its hash alone is sent
    body = await post(graphql.http, persisted_body(sha256(document)))
    # Then the answer is Apollo's PersistedQueryNotFound, which its link retries on, and no data
    assert error_codes(body) == NOT_FOUND
    assert "data" not in body


async def test_given_a_miss_when_hash_and_document_are_sent_then_it_runs_and_the_hash_alone_then_hits(
    graphql: GraphQLClient,
) -> None:
    # Given a hash the server missed
    document = unique_document()
    assert error_codes(await post(graphql.http, persisted_body(sha256(document)))) == NOT_FOUND
    # When the hash is sent with its document
    registered = await post(graphql.http, persisted_body(sha256(document), document))
    # Then it runs, and the hash alone now runs the same document
    assert data_of(registered) == {"viewer": None}
    assert data_of(await post(graphql.http, persisted_body(sha256(document)))) == {"viewer": None}


async def test_given_a_hash_that_is_not_the_documents_when_sent_then_refused_and_not_stored(
    graphql: GraphQLClient,
) -> None:
    # Given a document, and the hash of another
    document, claimed = unique_document(), sha256(unique_document())
    # When both are sent
    body = await post(graphql.http, persisted_body(claimed, document))
    # Then the request is refused as Apollo Server refuses it, nothing ran
    assert error_codes(body) == [("provided sha does not match query", "BAD_REQUEST")]
    assert "data" not in body
    # and the claimed hash still names nothing
    assert error_codes(await post(graphql.http, persisted_body(claimed))) == NOT_FOUND


async def test_given_a_persisted_hash_when_sent_by_get_then_it_runs(
    graphql: GraphQLClient,
) -> None:
    # Given a hash unknown over GET until it is registered by POST
    document = unique_document()
    missed = await get(graphql.http, sha256(document))
    assert missed.status_code == 200 and error_codes(missed.json()) == NOT_FOUND
    await post(graphql.http, persisted_body(sha256(document), document))
    # When it is sent alone by GET
    response = await get(graphql.http, sha256(document))
    # Then it runs
    assert response.status_code == 200, response.text
    assert data_of(response.json()) == {"viewer": None}


async def test_given_a_hashed_get_with_apollos_accept_then_it_is_answered_not_the_ide(
    graphql: GraphQLClient,
) -> None:
    # Given a persisted document
    document = unique_document()
    await post(graphql.http, persisted_body(sha256(document), document))
    # When its hash is sent by GET with Apollo Client 3's `Accept: */*` and no `query`
    response = await get(graphql.http, sha256(document), accept="*/*")
    # Then the answer is the result, not GraphiQL's page
    assert response.status_code == 200
    assert data_of(response.json()) == {"viewer": None}


async def test_given_a_miss_over_get_then_no_cache_may_keep_it(graphql: GraphQLClient) -> None:
    # When an unknown hash is sent by GET
    response = await get(graphql.http, sha256(unique_document()))
    # Then the miss is marked uncacheable, so a CDN will not keep answering it
    assert response.headers["cache-control"] == "private, no-cache, must-revalidate"


async def test_given_another_protocol_version_when_sent_then_refused(
    graphql: GraphQLClient,
) -> None:
    # When a persistedQuery of version 2 is sent
    document = unique_document()
    body = {"query": document, "extensions": persisted_extensions(sha256(document), version=2)}
    answer = await post(graphql.http, body)
    # Then it is refused, as Apollo Server refuses it
    assert error_codes(answer) == [("Unsupported persisted query version", "BAD_REQUEST")]


async def test_given_a_stored_document_then_it_expires_after_the_ttl(
    graphql: GraphQLClient, redis_client: aioredis.Redis
) -> None:
    # When a document is registered
    document = unique_document()
    await post(graphql.http, persisted_body(sha256(document), document))
    # Then Redis keeps it for at most the TTL
    seconds_left = await redis_client.ttl(persisted_query_key(sha256(document)))
    assert 0 < seconds_left <= PERSISTED_QUERY_TTL.total_seconds()


async def test_given_a_document_over_the_size_limit_then_it_runs_but_is_not_stored(
    graphql: GraphQLClient, redis_client: aioredis.Redis
) -> None:
    # Given a document over the limit (a long comment: its tokens are few)
    document = f"# {'x' * MAX_PERSISTED_QUERY_BYTES}\n{unique_document()}"
    # When it is sent with its hash
    body = await post(graphql.http, persisted_body(sha256(document), document))
    # Then it runs, but Redis holds nothing for it
    assert data_of(body) == {"viewer": None}
    assert await redis_client.exists(persisted_query_key(sha256(document))) == 0


# Trusted documents


async def test_given_trusted_mode_when_a_contract_operation_is_sent_in_full_then_it_runs(
    trusted: TrustedServer,
) -> None:
    # When the contract's Viewer query is sent as clients send it, without a hash
    body = await post(trusted.http, {"query": operation_source("Viewer")})
    # Then it runs
    assert data_of(body) == {"viewer": None}


async def test_given_trusted_mode_when_a_contract_operations_hash_alone_is_sent_then_it_runs(
    trusted: TrustedServer,
) -> None:
    # When the hash of the contract's Viewer query is sent alone, by POST and by GET
    sha256_hash = sha256(operation_source("Viewer"))
    posted = await post(trusted.http, persisted_body(sha256_hash))
    got = await get(trusted.http, sha256_hash)
    # Then both run it
    assert data_of(posted) == {"viewer": None}
    assert data_of(got.json()) == {"viewer": None}


async def test_given_trusted_mode_when_an_unlisted_document_is_sent_then_not_in_list(
    trusted: TrustedServer,
) -> None:
    # When a valid document that no manifest holds is sent in full
    body = await post(trusted.http, {"query": "query { viewer { id username } }"})
    # Then it is refused as not trusted, and nothing ran
    assert error_codes(body) == NOT_IN_LIST
    assert "data" not in body


async def test_given_trusted_mode_when_an_unparsable_document_is_sent_then_not_in_list_unparsed(
    trusted: TrustedServer,
) -> None:
    # When a document that is not even GraphQL is sent
    body = await post(trusted.http, {"query": "query { viewer { ((( unbalanced"})
    # Then the refusal is that it is not trusted, not a syntax error: nothing parsed it
    assert error_codes(body) == NOT_IN_LIST


async def test_given_trusted_mode_when_an_unknown_hash_is_sent_then_not_in_list_not_a_retry(
    trusted: TrustedServer,
) -> None:
    # When an unknown hash is sent alone, and then with its (untrusted) document
    document = unique_document()
    alone = await post(trusted.http, persisted_body(sha256(document)))
    with_document = await post(trusted.http, persisted_body(sha256(document), document))
    # Then both are refused as not trusted: not PersistedQueryNotFound, which would have
    # Apollo's link send the document in vain
    assert error_codes(alone) == NOT_IN_LIST
    assert error_codes(with_document) == NOT_IN_LIST
    # and the document did not become runnable by its hash
    assert error_codes(await post(trusted.http, persisted_body(sha256(document)))) == NOT_IN_LIST


async def test_given_a_registered_manifest_when_its_operation_is_sent_then_it_runs(
    trusted: TrustedServer, tmp_path: Path
) -> None:
    # Given a refused operation
    body = unique_document().replace("query Unique", "query Registered")
    assert error_codes(await post(trusted.http, persisted_body(sha256(body)))) == NOT_IN_LIST
    # When a manifest holding it is registered, as `pictograph register-manifest` does,
    # straight into the database every server process reads
    documents = read_manifest(manifest_file(tmp_path, [manifest_operation("Registered", body)]))
    new = await register_documents(trusted.runtime.database, documents, source="test-team")
    # Then the running server runs it on the next request, by hash and in full
    assert new == 1
    assert data_of(await post(trusted.http, persisted_body(sha256(body)))) == {"viewer": None}
    assert data_of(await post(trusted.http, {"query": body})) == {"viewer": None}


async def test_given_a_registered_manifest_when_registered_again_then_nothing_is_new(
    trusted: TrustedServer, tmp_path: Path
) -> None:
    # Given a registered manifest
    body = unique_document().replace("query Unique", "query Twice")
    path = manifest_file(tmp_path, [manifest_operation("Twice", body)])
    await register_documents(trusted.runtime.database, read_manifest(path), source="a")
    # When it is registered again
    new = await register_documents(trusted.runtime.database, read_manifest(path), source="b")
    # Then no operation is new, and it still runs
    assert new == 0
    assert data_of(await post(trusted.http, persisted_body(sha256(body)))) == {"viewer": None}


# WebSockets


async def subscribe_once(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One graphql-transport-ws operation; its first answer (`next` or `error`)."""
    async with connect(
        url.replace("http", "ws", 1) + "/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        answer: dict[str, Any] = json.loads(await socket.recv())
        return answer


async def test_given_trusted_mode_when_a_socket_subscribes_with_an_unlisted_document_then_error(
    trusted: TrustedServer,
) -> None:
    # When an untrusted document arrives in a subscribe message
    answer = await subscribe_once(trusted.url, {"query": "query { viewer { id username } }"})
    # Then that operation gets an error message saying so, unparsed
    assert answer["type"] == "error" and answer["id"] == "1"
    assert [(e["message"], e["extensions"]["code"]) for e in answer["payload"]] == NOT_IN_LIST


async def test_given_trusted_mode_when_a_socket_subscribes_with_a_trusted_hash_then_it_runs(
    trusted: TrustedServer,
) -> None:
    # When a subscribe message carries the hash of a contract operation, and no document
    extensions = persisted_extensions(sha256(operation_source("Viewer")))
    answer = await subscribe_once(trusted.url, {"extensions": extensions})
    # Then it runs
    assert (answer["id"], answer["type"]) == ("1", "next")
    assert data_of(answer["payload"]) == {"viewer": None}
