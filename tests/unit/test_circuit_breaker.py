"""The circuit breaker in front of Triton, on a clock the test moves."""

from __future__ import annotations

from ranking.circuit_breaker import CircuitBreaker, CircuitState


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failures_to_open=3, open_seconds=1.0, clock=clock)


def test_the_circuit_opens_after_the_named_number_of_failures_in_a_row() -> None:
    circuit = breaker(Clock())

    for _ in range(3):
        assert circuit.allow()
        circuit.record_failure()

    assert circuit.state is CircuitState.OPEN
    assert not circuit.allow()


def test_a_success_between_failures_keeps_the_circuit_closed() -> None:
    circuit = breaker(Clock())

    for outcome in ["fail", "fail", "ok", "fail", "fail"]:
        circuit.allow()
        circuit.record_failure() if outcome == "fail" else circuit.record_success()

    assert circuit.state is CircuitState.CLOSED


def test_after_the_open_period_one_call_probes_and_the_others_wait() -> None:
    clock = Clock()
    circuit = breaker(clock)
    for _ in range(3):
        circuit.record_failure()

    clock.now = 1.0

    assert circuit.allow()
    assert circuit.state is CircuitState.HALF_OPEN
    assert not circuit.allow()


def test_a_probe_that_succeeds_closes_the_circuit() -> None:
    clock = Clock()
    circuit = breaker(clock)
    for _ in range(3):
        circuit.record_failure()
    clock.now = 1.0
    circuit.allow()

    circuit.record_success()

    assert circuit.state is CircuitState.CLOSED
    assert circuit.allow()


def test_a_probe_that_fails_opens_the_circuit_for_another_period() -> None:
    clock = Clock()
    circuit = breaker(clock)
    for _ in range(3):
        circuit.record_failure()
    clock.now = 1.0
    circuit.allow()

    circuit.record_failure()

    assert circuit.state is CircuitState.OPEN
    clock.now = 1.5
    assert not circuit.allow()
    clock.now = 2.0
    assert circuit.allow()


def test_a_cancelled_probe_lets_the_next_call_probe() -> None:
    clock = Clock()
    circuit = breaker(clock)
    for _ in range(3):
        circuit.record_failure()
    clock.now = 1.0
    circuit.allow()

    circuit.abandon()

    assert circuit.allow()
    assert circuit.state is CircuitState.HALF_OPEN
