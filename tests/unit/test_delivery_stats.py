"""The delivery benchmark's rates (bench/delivery.py), from known timings."""

from __future__ import annotations

from bench.delivery import Deliveries


def test_deliveries_per_second_is_the_median_event_fan_out_rate() -> None:
    # Given three events to 100 receivers whose last deliveries came 0.1, 0.2 and 1.0 s in
    deliveries = Deliveries(100, event_seconds=[0.1, 0.2, 1.0])

    # Then the rate is the median event's: 100 receivers in 0.2 s, not the mean's
    assert deliveries.deliveries_per_second == 500


def test_deliveries_per_cpu_second_counts_every_receiver_of_every_event() -> None:
    # Given four events to 50 receivers that took the server 0.5 s of CPU in all
    deliveries = Deliveries(50, event_seconds=[0.1] * 4, server_cpu_seconds=0.5)

    # Then 200 deliveries were made in 0.5 CPU seconds
    assert deliveries.deliveries_per_cpu_second == 400
