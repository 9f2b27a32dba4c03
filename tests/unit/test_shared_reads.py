"""The reads of one event are shared by the receivers handling it at the same time, and by
no one after: a receiver that comes later reads afresh."""

from __future__ import annotations

from typing import cast

from loaders.shared import SharedReadsByEvent
from storage.stores import Stores

STORES = cast("Stores", object())  # never read: only the loaders' identity matters here


def test_receivers_of_one_event_at_the_same_time_share_its_reads() -> None:
    registry = SharedReadsByEvent()
    with registry.hold("event", STORES) as first, registry.hold("event", STORES) as second:
        assert first is second


def test_different_events_do_not_share_reads() -> None:
    registry = SharedReadsByEvent()
    with registry.hold("one", STORES) as one, registry.hold("other", STORES) as other:
        assert one is not other


def test_a_receiver_after_the_last_let_go_reads_afresh() -> None:
    registry = SharedReadsByEvent()
    with registry.hold("event", STORES) as earlier:
        pass
    with registry.hold("event", STORES) as later:
        assert later is not earlier
    assert len(registry) == 0
