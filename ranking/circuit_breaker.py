"""A circuit breaker in front of Triton: after FAILURES_TO_OPEN failures in a row (errors or
timeouts) every call goes straight to the in-process model for OPEN_SECONDS, instead of each
page waiting out a timeout; then a single call probes Triton (half-open) and, if it succeeds,
calls return to Triton by themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

# One failed or slow call may be a blip (a GC pause, a reload); three in a row is a server
# that is down or overloaded. Each of them costs a page at most the call's timeout.
FAILURES_TO_OPEN = 3
# How long an open circuit keeps calls off Triton before one probes it: short, so ranking
# returns to Triton within a second of it coming back, and one probe a second is no load.
OPEN_SECONDS = 1.0


class CircuitState(StrEnum):
    CLOSED = "closed"  # calls go to Triton
    OPEN = "open"  # calls go to the fallback until the open period ends
    HALF_OPEN = "half_open"  # one call is probing Triton; the others go to the fallback


class CircuitBreaker:
    def __init__(
        self,
        failures_to_open: int = FAILURES_TO_OPEN,
        open_seconds: float = OPEN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_to_open = failures_to_open
        self.open_seconds = open_seconds
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self.times_opened = 0

    @property
    def state(self) -> CircuitState:
        return self._state

    def allow(self) -> bool:
        """Whether this call may go to Triton; the first call after the open period is the
        probe, and the circuit is half-open until it reports back."""
        if self._state is CircuitState.CLOSED:
            return True
        if (
            self._state is CircuitState.OPEN
            and self._clock() >= self._opened_at + self.open_seconds
        ):
            self._state = CircuitState.HALF_OPEN
            return True
        return False

    def record_success(self) -> None:
        self._state = CircuitState.CLOSED
        self._failures = 0

    def record_failure(self) -> None:
        self._failures += 1
        if self._state is CircuitState.HALF_OPEN or self._failures >= self.failures_to_open:
            self._open()

    def abandon(self) -> None:
        """The call was cancelled before Triton answered: it says nothing of Triton, but a
        probe that never reports back must not leave the circuit half-open for good."""
        if self._state is CircuitState.HALF_OPEN:
            self._state = CircuitState.OPEN  # the open period is over: the next call probes

    def _open(self) -> None:
        if self._state is not CircuitState.OPEN:
            self.times_opened += 1
        self._state = CircuitState.OPEN
        self._opened_at = self._clock()
