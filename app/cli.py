"""`pictograph serve | seed | worker | export-schema`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from app.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DEMO_USERS = 300  # enough for a lived-in graph, seeded in about a minute

cli = typer.Typer(
    help="Pictograph: the GraphQL backend of a photo-sharing app.", no_args_is_help=True
)


@cli.command()
def serve(
    seed_demo: Annotated[
        bool, typer.Option("--seed", help="Load the demo data first, unless it is already there.")
    ] = False,
) -> None:
    """Serve the API on PICTOGRAPH_HOST:PICTOGRAPH_PORT."""
    from app.main import create_app

    settings = Settings()
    app = create_app(settings, demo_users=DEMO_USERS if seed_demo else 0)
    typer.echo(f"GraphQL at {settings.base_url}/graphql")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


@cli.command()
def seed(
    users: Annotated[int, typer.Option(min=2, help="How many demo users to create.")] = DEMO_USERS,
) -> None:
    """Load demo data into the configured backends (MongoDB must be a real server)."""
    from app.seed import seed_demo_data

    settings = Settings()
    if settings.mongodb_url is None:
        raise typer.BadParameter(
            "the embedded MongoDB lives inside one process: use `pictograph serve --seed`"
        )
    asyncio.run(seed_demo_data(settings, users=users))


@cli.command()
def worker() -> None:
    """Run background jobs: fan-out (as many processes as the load needs; each needs real
    MongoDB and Redis). A worker that dies is logged and replaced; Ctrl-C stops it."""
    from app.services import open_runtime
    from jobs.supervisor import Supervisor
    from jobs.worker import FanoutWorker, consumer_name

    settings = Settings()
    if settings.mongodb_url is None or settings.redis_url is None:
        raise typer.BadParameter(
            "a separate worker needs PICTOGRAPH_MONGODB_URL and PICTOGRAPH_REDIS_URL: the "
            "embedded ones live inside the server, which runs its own worker"
        )
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)

    async def run() -> None:
        async with open_runtime(settings) as runtime:
            consumer = consumer_name()
            supervisor = Supervisor(lambda: FanoutWorker(runtime.jobs, consumer))
            await supervisor.run(asyncio.Event())

    asyncio.run(run())


@cli.command("export-schema")
def export_schema(
    path: Annotated[Path, typer.Argument(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Write the GraphQL schema (SDL) the code defines."""
    from schema import build_schema

    path.write_text(build_schema(mask_errors=False).as_str() + "\n")
    typer.echo(f"wrote {path}")
