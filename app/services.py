"""Opening every backend client for the lifetime of the app, in one AsyncExitStack."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher, Type

from app.media_routes import UPLOAD_PATH
from app.settings import Settings
from jobs.context import JobServices
from media.decode_slots import MAX_CONCURRENT_TRANSCODES, DecodeSlots, default_decode_slots
from ranking.circuit_breaker import CircuitBreaker
from ranking.fallback_model import FallbackEngagementModel, RankingReport, in_process_report
from ranking.model_file import SHIPPED_MODEL_PATH
from ranking.onnx_model import OnnxEngagementModel
from ranking.ranker import Ranker
from ranking.triton_model import TritonEngagementModel
from resolvers.context import Services
from storage.cost_budget import CostBudget
from storage.ids import IdGenerator
from storage.interaction import InteractionLog
from storage.mongo import Database, open_database, ping
from storage.objects import LocalObjectStorage, ObjectStorage, open_s3_storage
from storage.rate_limit import RateLimiter
from storage.redis import open_redis
from storage.stores import Stores
from subscriptions.bus import open_event_bus

# OWASP's Password Storage Cheat Sheet, first argon2id option: 19 MiB, 2 passes, 1 lane.
ARGON2_MEMORY_KIB = 19_456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1


def password_hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        type=Type.ID,
    )


@dataclass(frozen=True, slots=True)
class Runtime:
    """The services resolvers and jobs use, and a readiness probe for each backend."""

    services: Services
    jobs: JobServices
    probes: dict[str, Callable[[], Awaitable[object]]]
    # The embedded object storage, which the app serves over HTTP; None with S3.
    local_storage: LocalObjectStorage | None
    database: Database
    # What /readyz says of ranking: Triton's state, or that the model runs in process.
    ranking_report: Callable[[], Awaitable[RankingReport]]


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(
            open_database(settings.mongodb_url, settings.mongodb_database)
        )
        redis = await stack.enter_async_context(open_redis(settings.redis_url))
        objects: ObjectStorage
        local_storage = None
        if settings.s3_endpoint_url is None:
            objects = local_storage = LocalObjectStorage(
                Path(settings.media_dir),
                upload_url=f"{settings.base_url}{UPLOAD_PATH}",
                secret_key=settings.secret_key.get_secret_value().encode(),
            )
        else:
            secret = settings.s3_secret_access_key
            objects = await stack.enter_async_context(
                open_s3_storage(
                    endpoint_url=settings.s3_endpoint_url,
                    bucket=settings.s3_bucket,
                    region=settings.s3_region,
                    access_key_id=settings.s3_access_key_id,
                    secret_access_key=None if secret is None else secret.get_secret_value(),
                )
            )
        bus = await stack.enter_async_context(open_event_bus(settings.broadcast_url))
        decode_slots = stack.enter_context(DecodeSlots(default_decode_slots()))
        transcode_slots = stack.enter_context(
            DecodeSlots(MAX_CONCURRENT_TRANSCODES, name="transcode")
        )
        stores = Stores.create(database, redis, feed_inactive_after=settings.feed_inactive_after)
        await stores.create_indexes()
        # Entered after the stores' clients, so its last flush runs before they close.
        interactions = await stack.enter_async_context(
            InteractionLog(stores.interactions, stores.affinity).running()
        )
        engagement_model, ranking_report = await open_engagement_model(settings, stack)
        passwords = password_hasher()
        services = Services(
            stores=stores,
            redis=redis,
            ids=IdGenerator(settings.worker_id),
            passwords=passwords,
            dummy_password_hash=passwords.hash("never anyone's password"),
            rate_limiter=RateLimiter(redis),
            rate_limits=settings.rate_limits,
            objects=objects,
            session_lifetime=settings.session_lifetime,
            media_base_url=settings.resolved_media_base_url,
            # Triton serves the same file (ranking/model_repository), so one version.
            ranker=Ranker(engagement_model, model_version=served_version(engagement_model)),
            fanout_max_followers=settings.fanout_max_followers,
            cursor_secret=hashlib.sha256(
                b"cursors|" + settings.secret_key.get_secret_value().encode()
            ).digest(),
            decode_slots=decode_slots,
            cost_budget=CostBudget(redis, settings.cost_budget_per_minute),
            bus=bus,
            interactions=interactions,
        )
        yield Runtime(
            services=services,
            jobs=JobServices(
                stores=stores,
                fanout_max_followers=settings.fanout_max_followers,
                ids=services.ids,
                bus=bus,
                objects=objects,
                transcode_slots=transcode_slots,
            ),
            probes={
                "mongodb": lambda: ping(database),
                "redis": redis.ping,
                "object_storage": objects.ping,
                "event_bus": bus.ping,
            },
            local_storage=local_storage,
            database=database,
            ranking_report=ranking_report,
        )


def served_version(model: OnnxEngagementModel | FallbackEngagementModel) -> str:
    in_process = model if isinstance(model, OnnxEngagementModel) else model.fallback
    return in_process.file.version


async def open_engagement_model(
    settings: Settings, stack: AsyncExitStack
) -> tuple[OnnxEngagementModel | FallbackEngagementModel, Callable[[], Awaitable[RankingReport]]]:
    """The shipped model in process (refused here if its feature schema is not the code's),
    and, with PICTOGRAPH_TRITON_URL, Triton in front of it. Triton need not be up yet: the
    in-process model serves until the circuit breaker's probe finds it."""
    in_process = OnnxEngagementModel(SHIPPED_MODEL_PATH)
    endpoint = settings.triton_endpoint
    if endpoint is None:
        return in_process, lambda: in_process_report(in_process)
    triton = TritonEngagementModel(
        endpoint, in_process.n_features, timeout_seconds=settings.triton_timeout_seconds
    )
    stack.push_async_callback(triton.close)
    model = FallbackEngagementModel(
        triton, in_process, CircuitBreaker(), timeout_seconds=settings.triton_timeout_seconds
    )
    return model, model.report
