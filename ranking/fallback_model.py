"""The engagement model the app ranks with when Triton is configured: Triton first, behind a
timeout and a circuit breaker, and the same ONNX file in process whenever Triton is slow,
failing, or the circuit is open. Every window the fallback serves is logged and counted, and
/readyz reports the circuit (degraded, still serving, while the fallback serves).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field

from ranking.circuit_breaker import CircuitBreaker, CircuitState
from ranking.model import Features, Probabilities
from ranking.onnx_model import OnnxEngagementModel, describe
from ranking.triton_endpoint import TRITON_TIMEOUT_SECONDS
from ranking.triton_model import TritonEngagementModel

logger = logging.getLogger(__name__)

# How long /readyz waits for Triton's own readiness answer: a probe, not a page's call.
READY_PROBE_TIMEOUT_SECONDS = 1.0


class FallbackReason:
    CIRCUIT_OPEN = "circuit_open"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class RankingReport:
    """What /readyz says of ranking; `degraded`: served, but not as configured."""

    details: dict[str, object]
    degraded: bool = False


@dataclass(slots=True)
class ServedCounts:
    triton: int = 0
    fallback: Counter[str] = field(default_factory=Counter)  # by reason


class FallbackEngagementModel:
    def __init__(
        self,
        triton: TritonEngagementModel,
        fallback: OnnxEngagementModel,
        breaker: CircuitBreaker | None = None,
        timeout_seconds: float = TRITON_TIMEOUT_SECONDS,
    ) -> None:
        self.triton = triton
        self.fallback = fallback
        self.breaker = breaker or CircuitBreaker()
        self.timeout_seconds = timeout_seconds
        self.served = ServedCounts()

    async def predict(self, features: Features) -> Probabilities:
        if not self.breaker.allow():
            return await self._fall_back(features, FallbackReason.CIRCUIT_OPEN, None)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                probabilities = await self.triton.predict(features)
        except TimeoutError:
            self.breaker.record_failure()
            return await self._fall_back(features, FallbackReason.TIMEOUT, None)
        except asyncio.CancelledError:
            self.breaker.abandon()
            raise
        except Exception as error:
            self.breaker.record_failure()
            return await self._fall_back(features, FallbackReason.ERROR, error)
        self.breaker.record_success()
        self.served.triton += 1
        return probabilities

    async def _fall_back(
        self, features: Features, reason: str, error: Exception | None
    ) -> Probabilities:
        self.served.fallback[reason] += 1
        logger.warning(
            "ranking served in process, not by Triton at %s (%s%s; circuit %s): %d windows so far",
            self.triton.endpoint.url,
            reason,
            "" if error is None else f": {error!r}",
            self.breaker.state.value,
            self.served.fallback.total(),
        )
        return await self.fallback.predict(features)

    async def report(self) -> RankingReport:
        try:
            async with asyncio.timeout(READY_PROBE_TIMEOUT_SECONDS):
                triton_ready = await self.triton.ready()
            triton = "ready" if triton_ready else "model not ready"
        except Exception as error:
            triton_ready, triton = False, f"down: {type(error).__name__}"
        degraded = not triton_ready or self.breaker.state is not CircuitState.CLOSED
        return RankingReport(
            details={
                "status": "degraded: served in process" if degraded else "ok",
                "model": describe(self.fallback.file),
                "triton": {
                    "url": self.triton.endpoint.url,
                    "server": triton,
                    "circuit": self.breaker.state.value,
                    "circuit_opened": self.breaker.times_opened,
                },
                "served": {
                    "triton": self.served.triton,
                    "fallback": dict(self.served.fallback),
                },
            },
            degraded=degraded,
        )

    async def close(self) -> None:
        await self.triton.close()


async def in_process_report(model: OnnxEngagementModel) -> RankingReport:
    return RankingReport(
        details={
            "status": "ok",
            "model": describe(model.file),
            "triton": "not configured (PICTOGRAPH_TRITON_URL): the model runs in process",
            "inline": model.inline,
        }
    )
