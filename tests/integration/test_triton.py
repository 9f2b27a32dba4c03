"""A real Triton Inference Server (`pictograph triton`: the nvidia-pytriton wheel, on the
CPU) serving the shipped model: the same scores as in process, one inference call per ranked
window (Triton's own statistics say so), and no failed page while it is stopped and started
again under a stream of feed requests."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import numpy as np
import pytest

from ranking.features import FEATURE_NAMES
from ranking.model_file import SHIPPED_MODEL_PATH
from ranking.onnx_model import OnnxEngagementModel
from ranking.triton_endpoint import TritonEndpoint
from ranking.triton_model import TritonEngagementModel
from tests.client import Account, GraphQLClient
from tests.conftest import serve
from tests.media import jpeg
from tests.servers import TritonProcess

FEED = """query ($first: Int) { feed(first: $first, order: RANKED) {
  edges { node { id } } pageInfo { hasNextPage } } }"""
POSTS = 4
CONCURRENT_READERS = 3  # a stream of feed requests, several in flight at once
OUTAGE_SECONDS = 2.0  # longer than the circuit's open period: probes fail, and retry
RETURN_DEADLINE_SECONDS = 30  # bounds a failing test: ranking is back on Triton in ~1 s
# A call slower than the production timeout is still Triton's, on a suite sharing 2 cores.
TEST_TRITON_TIMEOUT_SECONDS = 1.0


@pytest.fixture(scope="module")
def in_process() -> OnnxEngagementModel:
    return OnnxEngagementModel(SHIPPED_MODEL_PATH)


@pytest.fixture(scope="module")
async def app_url(
    triton: TritonProcess, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The app ranking with Triton over gRPC."""
    overrides = {
        "triton_url": triton.grpc_url,
        "triton_timeout_seconds": TEST_TRITON_TIMEOUT_SECONDS,
    }
    async with serve(overrides, redis_url, str(tmp_path_factory.mktemp("triton"))) as url:
        yield url


@pytest.fixture(scope="module")
async def app(app_url: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=app_url, timeout=30) as http:
        yield GraphQLClient(http)


async def author_with_posts(graphql: GraphQLClient) -> Account:
    """An account whose own feed has POSTS candidates to rank."""
    author = await graphql.sign_up("ranked")
    for index in range(POSTS):
        payload = await graphql.create_post(author, [jpeg(32, 32)], f"post {index}")
        assert payload["errors"] == []
    return author


async def ranked_page(graphql: GraphQLClient, viewer: Account) -> list[str]:
    data = await graphql.data(FEED, {"first": POSTS}, token=viewer.token)
    return [edge["node"]["id"] for edge in data["feed"]["edges"]]


async def ranking_readiness(graphql: GraphQLClient) -> tuple[str, dict[str, Any]]:
    body = (await graphql.http.get("/readyz")).json()
    return body["status"], body["ranking"]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
async def test_triton_scores_equal_the_in_process_scores(
    protocol: str, triton: TritonProcess, in_process: OnnxEngagementModel
) -> None:
    url = triton.http_url if protocol == "http" else triton.grpc_url
    model = TritonEngagementModel(TritonEndpoint.parse(url), in_process.n_features, 5.0)
    random = np.random.default_rng()
    try:
        for rows in (1, 50, 200, 1_000):
            features = random.normal(0, 2, (rows, in_process.n_features)).astype(np.float32)

            served = await model.predict(features)

            np.testing.assert_allclose(served, in_process.predict_now(features), rtol=0, atol=1e-5)
    finally:
        await model.close()


async def test_a_ranked_feed_page_makes_exactly_one_inference_call(
    app: GraphQLClient, triton: TritonProcess
) -> None:
    author = await author_with_posts(app)
    before = triton.statistics()

    page = await ranked_page(app, author)

    after = triton.statistics()
    assert len(page) == POSTS
    success = after["inference_stats"]["success"]["count"]
    assert success - before["inference_stats"]["success"]["count"] == 1
    assert after["inference_count"] - before["inference_count"] == POSTS  # the window's rows


async def test_readiness_reports_triton_serving(app: GraphQLClient) -> None:
    status, ranking = await ranking_readiness(app)

    assert status == "ok"
    assert ranking["status"] == "ok"
    assert ranking["triton"]["server"] == "ready"
    assert ranking["triton"]["circuit"] == "closed"


async def test_with_triton_stopped_under_load_every_page_is_served_and_ranking_returns(
    app: GraphQLClient, triton: TritonProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    author = await author_with_posts(app)
    expected = set(await ranked_page(app, author))
    failures: list[str] = []
    pages = 0
    reading = True

    async def reader() -> None:
        nonlocal pages
        while reading:
            try:
                page = await ranked_page(app, author)
            except AssertionError as error:  # a GraphQL error or a non-200 answer
                failures.append(str(error))
            else:
                pages += 1
                if set(page) != expected:
                    failures.append(f"page {page} is not the posts {expected}")

    readers = [asyncio.create_task(reader()) for _ in range(CONCURRENT_READERS)]
    try:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(triton.stop)
        pages_at_stop = pages
        await asyncio.sleep(OUTAGE_SECONDS)
        status_during, ranking_during = await ranking_readiness(app)
        pages_until_start = pages
        await asyncio.to_thread(triton.start)
        triton_served_when_back = ranking_during["served"]["triton"]
        deadline = time.monotonic() + RETURN_DEADLINE_SECONDS
        while True:
            status_after, ranking_after = await ranking_readiness(app)
            if ranking_after["served"]["triton"] > triton_served_when_back + CONCURRENT_READERS:
                break
            assert time.monotonic() < deadline, f"ranking did not return to Triton: {ranking_after}"
            await asyncio.sleep(0.1)
    finally:
        reading = False
        await asyncio.gather(*readers)
        if triton.stopped:
            await asyncio.to_thread(triton.start)  # the next tests need it

    assert failures == []
    assert pages > pages_until_start > pages_at_stop > 0
    assert status_during == "degraded"
    assert ranking_during["status"] == "degraded: served in process"
    assert ranking_during["triton"]["circuit"] in {"open", "half_open"}
    assert sum(ranking_during["served"]["fallback"].values()) > 0
    assert "ranking served in process, not by Triton" in caplog.text
    assert "served newest first" not in caplog.text  # the model ranked every page
    assert triton.successful_requests() > 0  # the restarted Triton's own count
    assert status_after == "ok"
    assert ranking_after["triton"]["circuit"] == "closed"


async def test_without_a_triton_url_readiness_says_ranking_runs_in_process(
    graphql: GraphQLClient,
) -> None:
    status, ranking = await ranking_readiness(graphql)

    assert status == "ok"
    assert ranking["status"] == "ok"
    assert ranking["triton"].startswith("not configured")
    assert ranking["model"]["features"] == len(FEATURE_NAMES)
