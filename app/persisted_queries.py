"""Which document a request runs: persisted queries, as Apollo Client's persisted-query link
speaks them, and the trusted-documents rule of production.

A request names its document by `extensions.persistedQuery = {version: 1, sha256Hash}`,
sends it in full as `query`, or both (over HTTP GET or POST, or in a graphql-transport-ws
`subscribe` payload):

- Automatic persisted queries (development's default): an unknown hash alone is answered
  `PersistedQueryNotFound` (code PERSISTED_QUERY_NOT_FOUND), on which the link sends the hash
  with the document; the server checks that the hash is the document's SHA-256, keeps the
  document in Redis and runs it. Any document runs.
- Trusted documents (production's default): only the contract's operations and those of
  registered manifests run, found by their hash; a hash or a document that is not among
  them is refused with PERSISTED_QUERY_NOT_IN_LIST (as Apollo's router names it) before
  anything parses it. Apollo's link does not retry on that code: no retry could succeed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum

from graphql import GraphQLError
from starlette.requests import HTTPConnection
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types.execution import PreExecutionError

from app.trusted.documents import TrustedDocuments
from app.trusted.manifest import document_id, is_document_id
from resolvers.context import Context
from storage.persisted_query import PersistedQueryStore

PERSISTED_QUERY_VERSION = 1  # the only version of Apollo's protocol
# As Apollo Server answers PersistedQueryNotFound: a CDN must not keep the miss for a hash
# that the next request registers.
REFUSAL_CACHE_CONTROL = "private, no-cache, must-revalidate"


class DocumentPolicy(Enum):
    ANY_DOCUMENT = "any document, hashes remembered in Redis"
    TRUSTED_DOCUMENTS = "only the documents of the contract and registered manifests"


class RefusalCode(StrEnum):
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    BAD_REQUEST = "BAD_REQUEST"  # a malformed persistedQuery extension, as Apollo Server's


@dataclass(frozen=True, slots=True)
class Refusal:
    message: str
    code: RefusalCode

    def error(self) -> GraphQLError:
        return GraphQLError(self.message, extensions={"code": self.code.value})


NOT_FOUND = Refusal("PersistedQueryNotFound", RefusalCode.PERSISTED_QUERY_NOT_FOUND)
HASH_MISMATCH = Refusal("provided sha does not match query", RefusalCode.BAD_REQUEST)
UNSUPPORTED_VERSION = Refusal("Unsupported persisted query version", RefusalCode.BAD_REQUEST)
MALFORMED_HASH = Refusal(
    "persistedQuery.sha256Hash must be a SHA-256 in lowercase hex", RefusalCode.BAD_REQUEST
)
MALFORMED_EXTENSION = Refusal("persistedQuery must be an object", RefusalCode.BAD_REQUEST)
QUERY_NOT_A_STRING = Refusal("query must be a string", RefusalCode.BAD_REQUEST)
NOT_IN_LIST = Refusal(
    "This operation is not a trusted document: only registered persisted queries run here.",
    RefusalCode.PERSISTED_QUERY_NOT_IN_LIST,
)


class PersistedQueries:
    def __init__(
        self, policy: DocumentPolicy, recent: PersistedQueryStore, trusted: TrustedDocuments
    ) -> None:
        self.policy = policy
        self._recent = recent
        self._trusted = trusted

    async def document_to_run(self, query: object, extensions: object) -> str | Refusal | None:
        """The document the request runs (None: it sent none, which GraphQL then refuses),
        or why it runs nothing. Never parses the document."""
        if query is not None and not isinstance(query, str):
            return QUERY_NOT_A_STRING
        persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
        if persisted is None:
            if query is None or self.policy is DocumentPolicy.ANY_DOCUMENT:
                return query
            return await self._trusted_body(document_id(query)) or NOT_IN_LIST
        if not isinstance(persisted, Mapping):
            return MALFORMED_EXTENSION
        if persisted.get("version") != PERSISTED_QUERY_VERSION:
            return UNSUPPORTED_VERSION
        sha256_hash = persisted.get("sha256Hash")
        if not is_document_id(sha256_hash):
            return MALFORMED_HASH
        assert isinstance(sha256_hash, str)
        if query is not None and document_id(query) != sha256_hash:
            return HASH_MISMATCH
        if self.policy is DocumentPolicy.TRUSTED_DOCUMENTS:
            return await self._trusted_body(sha256_hash) or NOT_IN_LIST
        if query is None:
            return await self._recent.find(sha256_hash) or NOT_FOUND
        await self._recent.save(sha256_hash, query)
        return query

    async def _trusted_body(self, sha256_hash: str) -> str | None:
        document = await self._trusted.find(sha256_hash)
        return None if document is None else document.body

    async def resolve_request(
        self, request_data: GraphQLRequestData
    ) -> GraphQLRequestData | PreExecutionError:
        """The HTTP request with the document it runs, or the refusal as a request error."""
        document = await self.document_to_run(request_data.query, request_data.extensions)
        if isinstance(document, Refusal):
            return PreExecutionError(data=None, errors=[document.error()])
        return dataclasses.replace(request_data, query=document)


def persisted_queries(connection: HTTPConnection) -> PersistedQueries:
    """The app's, made in its lifespan (app/main.py)."""
    found: PersistedQueries = connection.app.state.persisted_queries
    return found


class PersistedQueryTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, with a `subscribe` payload's document chosen by the same rule;
    a refusal is the operation's `error` message, and the socket stays open."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload")
        if (
            not self.connection_acknowledged
            or message.get("id") in self.operations
            or not isinstance(payload, dict)
            or not isinstance(self.websocket, ASGIWebSocketAdapter)
        ):
            await super().handle_subscribe(message)  # which refuses or closes as it does
            return
        rule = persisted_queries(self.websocket.ws)
        document = await rule.document_to_run(payload.get("query"), payload.get("extensions"))
        if isinstance(document, Refusal):
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [document.error().formatted]}
            )
            return
        if document is not None:
            message = {**message, "payload": {**payload, "query": document}}
        await super().handle_subscribe(message)
