"""Affinity counters decay by forward decay: each event adds a weight growing with time, and
a read divides by the weight of its moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis
import pytest

from storage.affinity import (
    HALF_LIFE_HOURS,
    AffinityEvent,
    AffinityKind,
    AffinityStore,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
HALF_LIFE = timedelta(hours=HALF_LIFE_HOURS)


def like(at: datetime, viewer: int = 1, author: int = 2) -> AffinityEvent:
    return AffinityEvent(viewer, author, AffinityKind.LIKE, ("sunset",), at)


async def test_a_like_one_half_life_ago_counts_half() -> None:
    store = AffinityStore(fakeredis.FakeAsyncRedis())
    await store.record([like(NOW - HALF_LIFE)])

    window = await store.window(1, [2], ["sunset"], NOW)

    assert window.author(AffinityKind.LIKE, 2) == pytest.approx(0.5)
    assert window.activity == pytest.approx(0.5)


async def test_counts_add_up_across_events() -> None:
    store = AffinityStore(fakeredis.FakeAsyncRedis())
    await store.record([like(NOW), like(NOW), like(NOW - 2 * HALF_LIFE)])

    window = await store.window(1, [2], [], NOW)

    assert window.author(AffinityKind.LIKE, 2) == pytest.approx(2.25)


async def test_a_profile_open_counts_for_the_author_but_not_their_hashtags() -> None:
    store = AffinityStore(fakeredis.FakeAsyncRedis())
    await store.record([AffinityEvent(1, 2, AffinityKind.PROFILE_OPEN, ("sunset",), NOW)])

    window = await store.window(1, [2], ["sunset"], NOW)

    assert window.author(AffinityKind.PROFILE_OPEN, 2) == pytest.approx(1.0)
    assert window.hashtags(["sunset"]) == 0.0
    assert window.author_engagements[2] == 0.0


async def test_engaging_with_ones_own_post_counts_nothing() -> None:
    store = AffinityStore(fakeredis.FakeAsyncRedis())
    await store.record([like(NOW, viewer=1, author=1)])

    window = await store.window(1, [1], ["sunset"], NOW)

    assert window.activity == 0.0
    assert window.author_engagements[1] == 0.0
