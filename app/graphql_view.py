"""The `/graphql` endpoint: strawberry's ASGI view with our context, auth and JSON."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from loaders import Loaders
from resolvers.context import Context, Services
from resolvers.viewer import authenticate


class GraphQLView(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        *,
        graphiql_html: str | None,
        allowed_origins: list[str],
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql_html is not None else None,
            # graphql-transport-ws only: the legacy subscriptions-transport-ws protocol is
            # unmaintained and has no way to report a rejected connection_init.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
        )
        self._graphiql_html = graphiql_html

    @staticmethod
    def _services(request: Request | WebSocket) -> Services:
        services: Services = request.app.state.services
        return services

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services = self._services(request)
        if isinstance(request, WebSocket):
            # The token arrives later, in connection_init: see on_ws_connect.
            return Context(services=services, loaders=Loaders.create(services.stores, None))
        auth = await authenticate(services, request.headers.get("authorization"))
        viewer_id = None if auth.viewer is None else auth.viewer.id
        return Context(
            services=services,
            loaders=Loaders.create(services.stores, viewer_id),
            viewer=auth.viewer,
            session=auth.session,
            auth_error=auth.error,
        )

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params or {}
        auth = await authenticate(context.services, params.get("authorization"))
        if auth.error is not None:
            # Closes with 4403 Forbidden, as graphql-transport-ws specifies.
            raise ConnectionRejectionError({"message": auth.error})
        context.viewer = auth.viewer
        context.session = auth.session
        context.refresh_loaders()

    def encode_json(self, data: object) -> str:
        # A str, not bytes: strawberry sends bytes over WebSockets as binary frames, which
        # graphql-ws clients (GraphiQL's included) cannot read.
        return orjson.dumps(data).decode()

    async def render_graphql_ide(self, request: Request) -> Response:
        assert self._graphiql_html is not None
        return HTMLResponse(self._graphiql_html)
