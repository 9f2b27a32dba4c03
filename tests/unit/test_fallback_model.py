"""Triton behind a timeout and a circuit breaker, with the in-process model serving whenever
Triton does not: here against a port nothing listens on, and a server that never answers
(the real Triton's tests are in tests/integration/test_triton.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from ranking.circuit_breaker import FAILURES_TO_OPEN, CircuitBreaker, CircuitState
from ranking.fallback_model import FallbackEngagementModel, FallbackReason
from ranking.model import Features
from ranking.model_file import SHIPPED_MODEL_PATH
from ranking.onnx_model import OnnxEngagementModel
from ranking.triton_endpoint import TritonEndpoint
from ranking.triton_model import TritonEngagementModel
from tests.servers import free_port

TIMEOUT_SECONDS = 0.2


@pytest.fixture(scope="module")
def in_process() -> OnnxEngagementModel:
    return OnnxEngagementModel(SHIPPED_MODEL_PATH)


def window(model: OnnxEngagementModel, rows: int = 200) -> Features:
    return np.random.default_rng().random((rows, model.n_features), dtype=np.float32)


def fallback_model(
    url: str, in_process: OnnxEngagementModel, breaker: CircuitBreaker | None = None
) -> FallbackEngagementModel:
    triton = TritonEngagementModel(
        TritonEndpoint.parse(url), in_process.n_features, timeout_seconds=TIMEOUT_SECONDS
    )
    return FallbackEngagementModel(triton, in_process, breaker, timeout_seconds=TIMEOUT_SECONDS)


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers: a Triton that hangs."""
    connections: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("scheme", ["http", "grpc"])
async def test_with_triton_unreachable_the_in_process_model_serves_the_window(
    scheme: str, in_process: OnnxEngagementModel, caplog: pytest.LogCaptureFixture
) -> None:
    model = fallback_model(f"{scheme}://127.0.0.1:{free_port()}", in_process)
    features = window(in_process)

    probabilities = await model.predict(features)

    np.testing.assert_array_equal(probabilities, in_process.predict_now(features))
    assert model.served.fallback == {FallbackReason.ERROR: 1}
    assert "ranking served in process, not by Triton" in caplog.text
    await model.close()


@pytest.mark.parametrize("scheme", ["http", "grpc"])
async def test_a_triton_that_does_not_answer_in_time_is_served_in_process(
    scheme: str, in_process: OnnxEngagementModel, silent_server: str
) -> None:
    model = fallback_model(f"{scheme}://{silent_server}", in_process)
    features = window(in_process)

    probabilities = await asyncio.wait_for(model.predict(features), TIMEOUT_SECONDS * 10)

    np.testing.assert_array_equal(probabilities, in_process.predict_now(features))
    assert sum(model.served.fallback.values()) == 1
    assert model.served.triton == 0
    await model.close()


async def test_once_the_circuit_opens_windows_go_straight_to_the_fallback(
    in_process: OnnxEngagementModel, caplog: pytest.LogCaptureFixture
) -> None:
    model = fallback_model(f"grpc://127.0.0.1:{free_port()}", in_process)

    for _ in range(FAILURES_TO_OPEN + 2):
        await model.predict(window(in_process))

    assert model.breaker.state is CircuitState.OPEN
    assert model.served.fallback == {
        FallbackReason.ERROR: FAILURES_TO_OPEN,
        FallbackReason.CIRCUIT_OPEN: 2,
    }
    assert caplog.text.count("ranking served in process") == FAILURES_TO_OPEN + 2
    await model.close()


async def test_readiness_reports_ranking_degraded_while_triton_is_unreachable(
    in_process: OnnxEngagementModel,
) -> None:
    model = fallback_model(f"http://127.0.0.1:{free_port()}", in_process)
    await model.predict(window(in_process))

    report = await model.report()

    assert report.degraded
    assert report.details["status"] == "degraded: served in process"
    assert report.details["served"] == {"triton": 0, "fallback": {FallbackReason.ERROR: 1}}
    await model.close()
