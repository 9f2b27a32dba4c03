"""Latency statistics shared by the benchmarks' measurements."""

from __future__ import annotations

import statistics


class LatencyStats:
    """Mixed into a measurement that has `latencies`: seconds, one per request."""

    latencies: list[float]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98] * 1000

    @property
    def requests_per_second(self) -> float:
        """For requests made one after another: 1 / mean latency."""
        return len(self.latencies) / sum(self.latencies)
