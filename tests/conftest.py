"""Fixtures shared by every test: real servers for integration tests, started once."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from app.main import create_app
from app.services import Runtime, open_runtime
from app.settings import Settings
from ranking.model import MODEL_NAME
from resolvers.context import Services
from resolvers.rate_limits import LOGIN_PER_ACCOUNT, MutationLimit, RateLimits
from storage.post import PostRecord
from storage.rate_limit import BackOff, Window
from storage.user import UserRecord
from tests.client import GraphQLClient
from tests.servers import (
    S3_TEST_CREDENTIALS,
    RedisProcess,
    TritonProcess,
    app_server,
    free_port,
    moto_s3_server,
    redis_server,
    triton_server,
)

# When set, the same tests run against this MongoDB instead of the in-memory one.
TEST_MONGODB_URL_VARIABLE = "PICTOGRAPH_TEST_MONGODB_URL"
S3_BUCKET = "pictograph-test-media"
# Small enough that a test can make a "large" account: authors above it are merged into
# feeds at read time instead of fanned out.
TEST_FANOUT_MAX_FOLLOWERS = 5
EMBEDDED_DEMO_USERS = 8  # the demo login among a few others: seeded in about two seconds
# Every test talks from 127.0.0.1 to servers sharing one Redis, so per-address limits would
# count the whole suite as one client: test servers allow that client plenty (each account
# keeps the real log-in back-off). tests/integration/test_abuse_limits.py tests the limits
# themselves on servers of their own.
_UNLIMITED = Window(attempts=1_000_000, seconds=60)
SUITE_RATE_LIMITS = RateLimits(
    mutation=MutationLimit(per_client=_UNLIMITED, per_viewer=_UNLIMITED),
    mutation_overrides={},
    login_per_account=LOGIN_PER_ACCOUNT,
    login_failures_per_client=BackOff(
        free_failures=1_000_000, first_delay_seconds=1, max_delay_seconds=1, memory_seconds=60
    ),
)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    """A redis-server of the test's own, which it may stop and start again (what it holds
    survives the restart), and whose streams no other test's worker reads."""
    with tempfile.TemporaryDirectory() as directory:
        server = RedisProcess(directory, persistent=True)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def triton() -> Iterator[TritonProcess]:
    """One real Triton for the whole suite (it takes seconds to start): `pictograph triton`
    serving the shipped model. A test that stops it starts it again before it ends."""
    with triton_server(MODEL_NAME) as server:
        yield server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_s3_server(S3_BUCKET) as endpoint:
        yield endpoint


def make_settings(redis_url: str | None, **overrides: object) -> Settings:
    """Settings for a test app: real Redis, MongoDB real when configured, else in memory."""
    values: dict[str, object] = {
        "redis_url": redis_url,
        "mongodb_url": os.environ.get(TEST_MONGODB_URL_VARIABLE),
        # A database per run, so runs against a shared MongoDB never see each other's data.
        "mongodb_database": f"pictograph_test_{uuid.uuid4().hex[:12]}",
        "rate_limits": SUITE_RATE_LIMITS,
        **overrides,
    }
    return Settings.model_validate(values)


def s3_overrides(s3_endpoint: str) -> dict[str, object]:
    return {
        "s3_endpoint_url": s3_endpoint,
        "s3_bucket": S3_BUCKET,
        "s3_access_key_id": S3_TEST_CREDENTIALS["aws_access_key_id"],
        "s3_secret_access_key": S3_TEST_CREDENTIALS["aws_secret_access_key"],
        "media_base_url": f"{s3_endpoint}/{S3_BUCKET}",  # moto serves the bucket path-style
    }


@asynccontextmanager
async def serve(
    settings_overrides: dict[str, object], redis_url: str, tmp: str
) -> AsyncIterator[str]:
    """The app on a free port, knowing its own URL (it signs upload forms with it)."""
    port = free_port()
    settings = make_settings(
        redis_url,
        port=port,
        media_dir=os.path.join(tmp, "media"),
        fanout_in_server=True,
        fanout_max_followers=TEST_FANOUT_MAX_FOLLOWERS,
        **settings_overrides,
    )
    async with app_server(create_app(settings), port) as url:
        yield url


@pytest.fixture(scope="session")
async def server_url(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The app with embedded object storage, against a real redis-server."""
    async with serve({}, redis_url, str(tmp_path_factory.mktemp("embedded"))) as url:
        yield url


@pytest.fixture(scope="session")
async def s3_server_url(
    redis_url: str, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The app against moto's S3 server and a real redis-server."""
    # A Redis database of its own: its fan-out worker must not take the other app's jobs.
    own_redis = redis_url.rsplit("/", 1)[0] + "/1"
    async with serve(
        s3_overrides(s3_endpoint), own_redis, str(tmp_path_factory.mktemp("s3"))
    ) as url:
        yield url


@pytest.fixture
async def runtime(redis_url: str) -> AsyncIterator[Runtime]:
    """The app's services without its HTTP layer, for tests that drive resolvers or stores."""
    async with open_runtime(make_settings(redis_url)) as runtime:
        yield runtime


async def insert_user(services: Services) -> UserRecord:
    """An account written straight through the store (no password: it never logs in)."""
    user_id = services.ids.next_id()
    return await services.stores.users.insert(
        user_id=user_id,
        username=f"direct_{user_id}",
        email=f"direct_{user_id}@example.com",
        password_hash="unused",
        created_at=services.clock(),
    )


async def insert_post(
    services: Services, author_id: int, mention_ids: tuple[int, ...] = ()
) -> PostRecord:
    """A post without media or caption, written straight through the store."""
    post = PostRecord(
        id=services.ids.next_id(), author_id=author_id, caption="", hashtags=(),
        mention_ids=mention_ids, media=(), like_count=0, comment_count=0, preview_comments=(),
        created_at=services.clock(),
    )  # fmt: skip
    await services.stores.posts.insert(post, client_mutation_id=None)
    return post


@dataclass(frozen=True)
class EmbeddedServer:
    """The app as `make serve` runs it, and a way to look inside its in-process backends."""

    graphql: GraphQLClient
    runtime: Runtime


@pytest.fixture(scope="session")
async def embedded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedServer]:
    """The README's `make serve` configuration: no backend URL (embedded MongoDB, Redis and
    object storage, all in this process), and so the fan-out worker inside the server, with
    the demo data loaded as `serve --seed` does (fewer users, to start in seconds)."""
    port = free_port()
    settings = Settings(
        port=port,
        media_dir=str(tmp_path_factory.mktemp("embedded-mode") / "media"),
        # Given, not read from the environment or a .env file: this is the embedded mode.
        mongodb_url=None,
        redis_url=None,
        s3_endpoint_url=None,
        fanout_in_server=None,
        rate_limits=SUITE_RATE_LIMITS,
    )
    app = create_app(settings, demo_users=EMBEDDED_DEMO_USERS)
    async with (
        app_server(app, port) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield EmbeddedServer(GraphQLClient(http), app.state.runtime)


@pytest.fixture(scope="session")
async def graphql(server_url: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        yield GraphQLClient(http)


@pytest.fixture(scope="session")
async def s3_graphql(s3_server_url: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=s3_server_url, timeout=30) as http:
        yield GraphQLClient(http)


@pytest.fixture(params=["embedded", "s3"])
def media_graphql(
    request: pytest.FixtureRequest, graphql: GraphQLClient, s3_graphql: GraphQLClient
) -> GraphQLClient:
    """Each test that uses media runs twice: embedded storage, and S3 over HTTP."""
    return graphql if request.param == "embedded" else s3_graphql
