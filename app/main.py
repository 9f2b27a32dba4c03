"""The composition root: `create_app(settings)` wires settings, backends and the schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import timedelta

from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute

from app.graphiql import graphiql_html, graphiql_static_app
from app.graphql_view import GraphQLView
from app.media_routes import media_routes
from app.persisted_queries import DocumentPolicy, PersistedQueries
from app.readiness import healthz, readyz
from app.seed import DEMO_LOGIN, DEMO_PASSWORD, seed_services
from app.services import open_runtime
from app.settings import Settings
from app.trusted.documents import TrustedDocuments
from app.trusted.manifest import load_contract_documents
from app.websocket_sessions import closing_revoked_sessions
from jobs.supervisor import Supervisor
from jobs.worker import FanoutWorker, consumer_name
from schema import build_schema
from storage.persisted_query import PersistedQueryStore
from storage.trusted_document import TrustedDocumentStore

GRAPHQL_PATH = "/graphql"


def create_app(settings: Settings, *, demo_users: int = 0) -> Starlette:
    """The app; `demo_users` > 0 loads that many demo users at start-up (`serve --seed`)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            app.state.runtime = runtime
            app.state.services = runtime.services
            app.state.local_storage = runtime.local_storage
            app.state.persisted_queries = PersistedQueries(
                DocumentPolicy.TRUSTED_DOCUMENTS
                if settings.requires_trusted_documents
                else DocumentPolicy.ANY_DOCUMENT,
                PersistedQueryStore(runtime.services.redis),
                TrustedDocuments(
                    load_contract_documents(schema._schema),
                    TrustedDocumentStore.of(runtime.database),
                ),
            )
            supervisor = None
            if settings.runs_fanout_in_server:
                consumer = consumer_name()
                supervisor = Supervisor(lambda: FanoutWorker(runtime.jobs, consumer))
            app.state.fanout_supervisor = supervisor
            async with (
                closing_revoked_sessions(runtime.services.bus, view.open_sockets),
                nullcontext() if supervisor is None else supervisor.running(),
            ):
                if demo_users:
                    await seed_services(runtime.services, users=demo_users)
                    print(
                        f"Demo data loaded: log in as {DEMO_LOGIN!r} "
                        f"with password {DEMO_PASSWORD!r}."
                    )
                yield

    graphiql_enabled = not settings.is_production
    schema = build_schema(
        mask_errors=settings.is_production,
        # The hints spell out the schema as introspection does: both or neither.
        introspection=settings.introspection_enabled,
        suggestions=settings.introspection_enabled,
    )
    view = GraphQLView(
        schema,
        graphiql_html=graphiql_html(GRAPHQL_PATH) if graphiql_enabled else None,
        allowed_origins=settings.allowed_origins,
        deadline_seconds=settings.request_deadline_seconds,
        connection_init_timeout=timedelta(seconds=settings.connection_init_timeout_seconds),
        trusted_proxies=settings.trusted_proxy_networks,
    )
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route(GRAPHQL_PATH, view),
        WebSocketRoute(GRAPHQL_PATH, view),
    ]
    if settings.s3_endpoint_url is None:
        routes.extend(media_routes())
    if graphiql_enabled:
        routes.append(Mount("/graphiql", graphiql_static_app()))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings  # read by whatever serves the app (app/server.py)
    return app
