"""The `/graphql` endpoint: strawberry's ASGI view with our context, auth and JSON."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.execution import ExecutionResult, PreExecutionError

from app import request_limits
from app.client_address import IPNetwork, client_address
from app.persisted_queries import (
    REFUSAL_CACHE_CONTROL,
    PersistedQueryTransportWSHandler,
    persisted_queries,
)
from app.websocket_sessions import OpenSockets, SessionCheckingHandler, UnacknowledgedSockets
from resolvers.context import Context, Services
from resolvers.errors import Timeout
from resolvers.subscription import MAX_SUBSCRIPTIONS_PER_CONNECTION
from resolvers.viewer import authenticate

# As GitHub's GraphQL API: long enough for any request the cost limit admits on a loaded
# server, short enough that a stuck one gives back its worker's time.
REQUEST_DEADLINE_SECONDS = 10.0

JSON = "application/json"
# The GraphQL over HTTP spec's own media type: request errors get 4xx and no `data` entry.
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def prefers_graphql_response_json(accept: str | None) -> bool:
    """Whether `Accept` names application/graphql-response+json at least as highly as
    application/json. `*/*` and a missing header mean application/json, as the spec says."""
    quality = {JSON: 0.0, GRAPHQL_RESPONSE_JSON: 0.0}
    for media_range in (accept or "").split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        if media_type.lower() not in quality:
            continue
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media_type.lower()] = max(quality[media_type.lower()], q)
    return 0.0 < quality[GRAPHQL_RESPONSE_JSON] >= quality[JSON]


class TransportWSHandler(SessionCheckingHandler, PersistedQueryTransportWSHandler):
    """graphql-transport-ws: each `subscribe` first checks the session, then picks its
    document by the persisted-query rule."""


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    request_adapter_class = request_limits.BoundedBodyRequestAdapter

    def __init__(
        self,
        schema: Any,
        *,
        graphiql_html: str | None,
        allowed_origins: list[str],
        deadline_seconds: float = REQUEST_DEADLINE_SECONDS,
        connection_init_timeout: timedelta,
        trusted_proxies: Sequence[IPNetwork] = (),
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql_html is not None else None,
            # graphql-transport-ws only: the legacy subscriptions-transport-ws protocol is
            # unmaintained and has no way to report a rejected connection_init.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
            connection_init_wait_timeout=connection_init_timeout,
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )
        self._graphiql_html = graphiql_html
        self._deadline_seconds = deadline_seconds
        self._trusted_proxies = trusted_proxies
        self.unacknowledged_sockets = UnacknowledgedSockets()
        self.open_sockets = OpenSockets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A client gone before its body arrived (or cut off for sending it too slowly) is
        # owed no answer, and is no error of ours to log.
        with contextlib.suppress(ClientDisconnect):
            await super().__call__(scope, receive, send)

    @staticmethod
    def _services(request: Request | WebSocket) -> Services:
        services: Services = request.app.state.services
        return services

    def _client_address(self, request: Request | WebSocket) -> str:
        peer = None if request.client is None else request.client.host
        forwarded_for = request.headers.getlist("x-forwarded-for")
        return client_address(peer, forwarded_for, self._trusted_proxies)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services = self._services(request)
        if isinstance(request, WebSocket):
            # The token arrives later, in connection_init: see on_ws_connect.
            context = Context.for_viewer(services, None)
        else:
            auth = await authenticate(services, request.headers.get("authorization"))
            context = Context.for_viewer(services, auth.viewer)
            context.session, context.auth_error = auth.session, auth.error
        context.client_address = self._client_address(request)
        return context

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """Execution under the deadline, and stopped when the client goes away.

        A query is cancelled at its next await (what runs between awaits is bounded by the
        cost limit). A mutation is never stopped halfway, which could leave half a write:
        it runs to its end, and a client still there gets its result.
        """
        execution = asyncio.ensure_future(
            super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        )
        disconnect = asyncio.ensure_future(_client_gone(request))
        try:
            done, _ = await asyncio.wait(
                {execution, disconnect},
                timeout=self._deadline_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if execution in done:
                return execution.result()
            if await _is_mutation(request, request_data):
                return await execution
            execution.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await execution
            error = Timeout(
                f"The request ran past its {self._deadline_seconds:g} s deadline and was "
                "stopped. Ask for smaller pages or fewer nested lists."
                if disconnect not in done
                else "The client went away; the request was stopped."
            )
            result = ExecutionResult(data=None, errors=[error])
            return [result] * len(request_data) if isinstance(request_data, list) else result
        finally:
            # Also when this request itself is cancelled (the server shutting down).
            disconnect.cancel()
            if not execution.done() and not await _is_mutation(request, request_data):
                execution.cancel()

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params or {}
        auth = await authenticate(context.services, params.get("authorization"))
        if auth.error is not None:
            # Closes with 4403 Forbidden, as graphql-transport-ws specifies.
            raise ConnectionRejectionError({"message": auth.error})
        context.viewer = auth.viewer
        context.session = auth.session
        context.refresh_loaders()

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        if prefers_graphql_response_json(request.headers.get("accept")):
            # Read back by create_response, which has no request to look at.
            sub_response.media_type = GRAPHQL_RESPONSE_JSON
        return sub_response

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A hashed GET has no `query`, and Apollo Client sends it with `Accept: */*`: it asks
        # for data, not for the IDE (nor, in production, for a 404).
        has_extensions = "extensions" in request.query_params
        return super().should_render_graphql_ide(request) and not has_extensions

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # Every HTTP operation, batched or not, passes here: see app/persisted_queries.py.
        resolved = await persisted_queries(request).resolve_request(request_data)
        if isinstance(resolved, PreExecutionError):
            sub_response.headers["cache-control"] = REFUSAL_CACHE_CONTROL
            return resolved
        return await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=resolved,
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if isinstance(result, PreExecutionError):
            # A request error (parse, validation, variables): nothing ran, so, as the GraphQL
            # spec says, no `data` entry (create_response then answers 400 where it may).
            response.pop("data", None)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        response.headers.add_vary_header("Accept")  # the media type depends on it
        if sub_response.media_type == GRAPHQL_RESPONSE_JSON:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
            if isinstance(response_data, dict) and "data" not in response_data:
                response.status_code = 400  # a request error: see process_result
        return response

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        """As strawberry's, with the limits and shape checks of app/request_limits.py (and
        no multipart or streaming transports, which this endpoint does not offer)."""
        content_type, _ = parse_content_type(request.content_type or "")
        if request.method == "GET":
            query_string: bytes = request.url.partition("?")[2].encode()
            request_limits.check_query_string(query_string)
            data: object = self.parse_query_params(request.query_params)
        elif "application/json" in content_type:
            data = self.parse_json(await request.get_body())
        else:
            raise HTTPException(400, "Unsupported content type")
        return request_limits.graphql_request(data)

    def parse_json(self, data: str | bytes) -> object:
        """HTTP bodies and query-string values: JSON, or 400 saying why."""
        return request_limits.decode_json(data)

    def decode_json(self, data: str | bytes) -> object:
        # WebSocket messages (strawberry's parse_json, above, has the HTTP ones): the
        # handler answers orjson's JSONDecodeError, a json.JSONDecodeError, with 4400.
        return orjson.loads(data)

    def encode_json(self, data: object) -> str:
        # A str, not bytes: strawberry sends bytes over WebSockets as binary frames, which
        # graphql-ws clients (GraphiQL's included) cannot read.
        return orjson.dumps(data).decode()

    async def render_graphql_ide(self, request: Request) -> Response:
        assert self._graphiql_html is not None
        return HTMLResponse(self._graphiql_html)


async def _client_gone(request: Request) -> None:
    """Returns when the client disconnects. Only called once the body has been read, so
    the next ASGI message can only be `http.disconnect`."""
    receive: Any = request.receive
    while (await receive())["type"] != "http.disconnect":
        pass


async def _is_mutation(
    request: Request, request_data: GraphQLRequestData | list[GraphQLRequestData]
) -> bool:
    """Whether any operation of the request is a mutation. Parses the document again (a
    persisted query's hash is looked up first, as execution did), but only for a request
    already past its deadline; a document that cannot be found or parsed counts as a query."""
    for data in request_data if isinstance(request_data, list) else [request_data]:
        resolved = await persisted_queries(request).resolve_request(data)
        if isinstance(resolved, PreExecutionError) or not resolved.query:
            continue
        try:
            operation = get_operation_ast(parse(resolved.query), resolved.operation_name)
        except GraphQLError:
            continue
        if operation is not None and operation.operation is OperationType.MUTATION:
            return True
    return False
