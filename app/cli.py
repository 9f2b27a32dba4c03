"""`pictograph serve | seed | worker | triton | export-schema | register-manifest |
export-contract-manifest | train-ranker | eval-ranker`."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn

from app.settings import Settings
from ranking.triton_endpoint import LOCAL_GRPC_PORT, LOCAL_HTTP_PORT, LOCAL_METRICS_PORT

if TYPE_CHECKING:
    from ranking.training.log_source import LogRead

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
    from app.server import tune_garbage_collector, uvicorn_config

    settings = Settings()
    app = create_app(settings, demo_users=DEMO_USERS if seed_demo else 0)
    typer.echo(f"GraphQL at {settings.base_url}/graphql")
    tune_garbage_collector()
    uvicorn.Server(uvicorn_config(app, settings, log_level="info")).run()


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


@cli.command()
def triton(
    http_port: Annotated[int, typer.Option(help="Triton's HTTP port.")] = LOCAL_HTTP_PORT,
    grpc_port: Annotated[int, typer.Option(help="Triton's gRPC port.")] = LOCAL_GRPC_PORT,
    metrics_port: Annotated[
        int, typer.Option(help="Triton's Prometheus metrics port.")
    ] = LOCAL_METRICS_PORT,
) -> None:
    """Run Triton Inference Server on the CPU (the nvidia-pytriton wheel, in the `triton`
    and `test` extras) serving the shipped engagement model on 127.0.0.1, for
    PICTOGRAPH_TRITON_URL=grpc://127.0.0.1:8101. Ctrl-C stops it."""
    try:
        from ranking.triton_server import serve_triton
    except ImportError as error:
        raise typer.BadParameter(
            f"Triton on the CPU needs the nvidia-pytriton wheel (the `triton` extra): {error}"
        ) from None
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    serve_triton(http_port=http_port, grpc_port=grpc_port, metrics_port=metrics_port)


@cli.command("export-schema")
def export_schema(
    path: Annotated[Path, typer.Argument(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Write the GraphQL schema (SDL) the code defines."""
    from schema import build_schema

    path.write_text(build_schema(mask_errors=False).as_str() + "\n")
    typer.echo(f"wrote {path}")


@cli.command("register-manifest")
def register_manifest(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="An Apollo persisted-query manifest (JSON)."
        ),
    ],
    source: Annotated[
        str | None,
        typer.Option(help="Who registers it (recorded beside each operation); the file name."),
    ] = None,
) -> None:
    """Trust a persisted-query manifest's operations (from Apollo's
    generate-persisted-query-manifest): in trusted-documents mode only these, and the
    contract's, run. Every operation is checked first; a bad manifest registers nothing."""
    from app.trusted.manifest import ManifestError
    from app.trusted.registration import read_manifest, register_documents
    from storage.mongo import open_database

    try:
        documents = read_manifest(path)
    except ManifestError as error:
        typer.echo(f"{path} was not registered:\n{error}", err=True)
        raise typer.Exit(1) from None
    settings = Settings()
    if settings.mongodb_url is None:
        raise typer.BadParameter(
            "registered manifests live in MongoDB, for every server process to see: set "
            "PICTOGRAPH_MONGODB_URL (the embedded one lives inside a single process)"
        )
    mongodb_url = settings.mongodb_url

    async def run() -> int:
        async with open_database(mongodb_url, settings.mongodb_database) as database:
            return await register_documents(database, documents, source=source or path.name)

    new = asyncio.run(run())
    typer.echo(f"registered {len(documents)} operations from {path} ({new} new)")


@cli.command("export-contract-manifest")
def export_contract_manifest(
    contract: Annotated[
        Path | None, typer.Option(help="The contract's operations.graphql.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Where to write it; the package's contract.json.")
    ] = None,
) -> None:
    """Write app/trusted/contract.json, the contract's operations as a manifest that ships
    inside the package (a test fails when it drifts from the contract or the schema)."""
    from app.trusted.manifest import CONTRACT_MANIFEST_PATH
    from app.trusted.registration import CONTRACT_SOURCE_PATH, write_contract_manifest

    target = output or CONTRACT_MANIFEST_PATH
    pending = write_contract_manifest(contract or CONTRACT_SOURCE_PATH, target)
    typer.echo(f"wrote {target}")
    if pending:
        typer.echo("not served yet, so left out: " + ", ".join(pending))


class TrainingSource(StrEnum):
    SIMULATED = "simulated"
    MONGODB = "mongodb"


@cli.command("train-ranker")
def train_ranker(
    source: Annotated[
        TrainingSource,
        typer.Option(
            help="simulated: the simulator's logs; mongodb: the app's own interaction log "
            "(the `interactions` collection at PICTOGRAPH_MONGODB_URL)."
        ),
    ] = TrainingSource.SIMULATED,
    users: Annotated[int, typer.Option(min=20, help="Simulated users.")] = 800,
    days: Annotated[int, typer.Option(min=4, help="Simulated days.")] = 14,
    seed: Annotated[int, typer.Option(help="The simulation's and training's seed.")] = 2026,
    log_days: Annotated[
        int | None,
        typer.Option(min=2, help="mongodb: read the log of the last N days (LOG_DAYS, 14)."),
    ] = None,
    max_documents: Annotated[
        int | None,
        typer.Option(
            min=1, help="mongodb: read at most this many documents (MAX_LOG_DOCUMENTS, 1M)."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Where to write the ONNX file; the shipped model's path.")
    ] = None,
) -> None:
    """Train the engagement model on simulated interaction logs (the default) or on the
    app's own log, and export it to ONNX (needs the optional `train` extra: PyTorch, onnx)."""
    from ranking.model_file import SHIPPED_MODEL_PATH
    from ranking.simulation import SimulationConfig

    settings = Settings()
    if source is TrainingSource.MONGODB and settings.mongodb_url is None:
        raise typer.BadParameter(
            "--source mongodb reads the interaction log of a deployment: set "
            "PICTOGRAPH_MONGODB_URL (the embedded MongoDB lives inside one server process "
            "and keeps no log once it stops)"
        )
    try:
        from ranking.training.train import train, train_from_log
    except ImportError as error:
        raise typer.BadParameter(
            f"training needs the `train` extra (pip install -e '.[train]'): {error}"
        ) from None
    target = output or SHIPPED_MODEL_PATH
    if source is TrainingSource.SIMULATED:
        result = train(SimulationConfig(users=users, days=days, seed=seed), target)
    else:
        from ranking.training.labels import TooFewRows, check_trainable

        read = asyncio.run(_read_interaction_log(settings, log_days, max_documents))
        typer.echo(
            f"read {read.documents} log documents from {read.since:%Y-%m-%d %H:%M}"
            f"{' (capped)' if read.capped else ''}: {read.logged.rows} labelled ranked "
            f"impressions, left out {read.logged.skipped}; labels final up to "
            f"{read.labels_final_at:%Y-%m-%d %H:%M}"
        )
        try:
            check_trainable(read.logged)
        except TooFewRows as error:
            typer.echo(f"not trained: {error}", err=True)
            raise typer.Exit(1) from None
        result = train_from_log(read.logged, target, seed=seed)
    typer.echo(
        f"wrote {result.path} ({result.size_bytes} bytes), version {result.version}, "
        f"{result.rows} impressions, final loss {result.final_loss:.4f}"
    )
    if result.triton_config is not None:
        typer.echo(f"wrote {result.triton_config} (Triton's config, from the file)")


async def _read_interaction_log(
    settings: Settings, days: int | None, max_documents: int | None
) -> LogRead:
    """The log's training set; the training modules imported here, as serving needs none."""
    from ranking.training.log_source import LOG_DAYS, MAX_LOG_DOCUMENTS, read_logged_set
    from storage.interaction import InteractionStore
    from storage.mongo import open_database

    until = datetime.now(UTC)
    async with open_database(settings.mongodb_url, settings.mongodb_database) as database:
        store = InteractionStore(database["interactions"])
        return await read_logged_set(
            store,
            until - timedelta(days=days or LOG_DAYS),
            until,
            max_documents=max_documents or MAX_LOG_DOCUMENTS,
        )


@cli.command("eval-ranker")
def eval_ranker(
    users: Annotated[int, typer.Option(min=20, help="Simulated users.")] = 800,
    days: Annotated[int, typer.Option(min=4, help="Simulated days.")] = 14,
    seed: Annotated[int, typer.Option(help="The simulation's seed.")] = 2026,
    model: Annotated[
        Path | None, typer.Option(help="The ONNX model to evaluate; the shipped one.")
    ] = None,
) -> None:
    """Evaluate the engagement model offline against reverse chronological, popularity,
    the old linear formula and the oracle: NDCG@10 and per-head AUC on held-out users'
    later days of simulated logs."""
    from ranking.model_file import SHIPPED_MODEL_PATH
    from ranking.simulation import SimulationConfig
    from ranking.training.evaluate import evaluate_model, report

    config = SimulationConfig(users=users, days=days, seed=seed)
    typer.echo(report(evaluate_model(config, model or SHIPPED_MODEL_PATH)))
