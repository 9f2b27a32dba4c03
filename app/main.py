"""The composition root: `create_app(settings)` wires settings, backends and the schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute

from app.graphiql import graphiql_html, graphiql_static_app
from app.graphql_view import GraphQLView
from app.media_routes import media_routes
from app.seed import DEMO_LOGIN, DEMO_PASSWORD, seed_services
from app.services import Runtime, open_runtime
from app.settings import Settings
from app.worker import consumer_name, run_fanout_worker
from schema import build_schema

GRAPHQL_PATH = "/graphql"
DEMO_USERS = 300  # enough for a lived-in graph, seeded in seconds
READINESS_TIMEOUT_SECONDS = 2.0  # a probe that hangs longer counts as down


async def healthz(request: Request) -> JSONResponse:
    """The process is up; says nothing about the backends (that is /readyz)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Each backend answers: load balancers send traffic only to ready processes."""
    runtime: Runtime = request.app.state.runtime

    async def probe(name: str) -> tuple[str, str]:
        try:
            await asyncio.wait_for(runtime.probes[name](), READINESS_TIMEOUT_SECONDS)
        except Exception as error:
            return name, f"down: {type(error).__name__}"
        return name, "ok"

    results = dict(await asyncio.gather(*(probe(name) for name in runtime.probes)))
    ready = all(status == "ok" for status in results.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "backends": results},
        status_code=200 if ready else 503,
    )


def create_app(settings: Settings, *, seed_demo: bool = False) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            app.state.runtime = runtime
            app.state.services = runtime.services
            app.state.local_storage = runtime.local_storage
            stop = asyncio.Event()
            worker = None
            if settings.runs_fanout_in_server:
                worker = asyncio.create_task(
                    run_fanout_worker(runtime.services, consumer_name(), stop)
                )
            if seed_demo:
                await seed_services(runtime.services, users=DEMO_USERS)
                print(
                    f"Demo data loaded: log in as {DEMO_LOGIN!r} with password {DEMO_PASSWORD!r}."
                )
            try:
                yield
            finally:
                stop.set()
                if worker is not None:
                    await worker

    graphiql_enabled = not settings.is_production
    view = GraphQLView(
        build_schema(mask_errors=settings.is_production),
        graphiql_html=graphiql_html(GRAPHQL_PATH) if graphiql_enabled else None,
        allowed_origins=settings.allowed_origins,
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
    return Starlette(routes=routes, lifespan=lifespan)
