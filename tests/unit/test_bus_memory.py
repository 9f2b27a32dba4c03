"""The event bus on broadcaster's memory backend (embedded mode): delivery, bounded
subscriber queues, malformed messages skipped, publishing that never raises."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from broadcaster import Broadcast

from subscriptions.bus import MEMORY_URL, EventBus, open_event_bus
from subscriptions.channels import post_channel, user_channel
from subscriptions.events import CommentAdded, Event, MessageReceived, PostLiked
from subscriptions.subscription import (
    SUBSCRIBER_TOO_SLOW_CLOSE_CODE,
    SubscriberTooSlow,
    Subscription,
)
from tests.servers import free_port

SMALL_QUEUE = 3  # a subscriber this many events behind is dropped, in these tests
WAIT_SECONDS = 5  # only bounds a failing test


async def next_event(subscription: Subscription[Event]) -> Event:
    async with asyncio.timeout(WAIT_SECONDS):
        return await anext(subscription)


async def no_probe() -> None:
    return None


@pytest.fixture
async def broadcast() -> AsyncIterator[Broadcast]:
    async with Broadcast(MEMORY_URL) as broadcast:
        yield broadcast


@pytest.fixture
def bus(broadcast: Broadcast) -> EventBus:
    return EventBus(broadcast, no_probe, subscriber_max_events=SMALL_QUEUE)


async def test_a_subscriber_receives_the_events_of_its_channel_in_order() -> None:
    async with open_event_bus(None) as bus, bus.subscribe(post_channel(1)) as subscription:
        await bus.publish(PostLiked(post_id=1, actor_id=2))
        await bus.publish(CommentAdded(post_id=1, comment_id=3))

        received = [await next_event(subscription), await next_event(subscription)]

    assert received == [PostLiked(post_id=1, actor_id=2), CommentAdded(post_id=1, comment_id=3)]


async def test_a_subscriber_receives_nothing_of_other_channels(bus: EventBus) -> None:
    async with bus.subscribe(post_channel(1)) as subscription:
        await bus.publish(PostLiked(post_id=2, actor_id=2))
        await bus.publish(PostLiked(post_id=1, actor_id=5))

        assert await next_event(subscription) == PostLiked(post_id=1, actor_id=5)


async def test_a_subscriber_that_cannot_keep_up_is_dropped_and_the_others_keep_receiving(
    bus: EventBus,
) -> None:
    events = [
        MessageReceived(user_id=1, thread_id=1, message_id=seq, seq=seq)
        for seq in range(1, SMALL_QUEUE + 3)
    ]
    async with (
        bus.subscribe(user_channel(1)) as slow,
        bus.subscribe(user_channel(1)) as fast,
    ):
        received = []
        for event in events:
            await bus.publish(event)
            # Once the fast one has it, the slow one was offered it too.
            received.append(await next_event(fast))

        with pytest.raises(SubscriberTooSlow) as dropped:
            await next_event(slow)

    assert received == events
    assert dropped.value.close_code == SUBSCRIBER_TOO_SLOW_CLOSE_CODE == 4013


async def test_a_subscriber_that_keeps_up_is_never_dropped(bus: EventBus) -> None:
    async with bus.subscribe(user_channel(1)) as subscription:
        for seq in range(1, 4 * SMALL_QUEUE):
            await bus.publish(MessageReceived(user_id=1, thread_id=1, message_id=seq, seq=seq))

            assert await next_event(subscription) == MessageReceived(
                user_id=1, thread_id=1, message_id=seq, seq=seq
            )


async def test_a_malformed_message_is_logged_and_skipped(
    bus: EventBus, broadcast: Broadcast, caplog: pytest.LogCaptureFixture
) -> None:
    async with bus.subscribe(post_channel(1)) as subscription:
        await broadcast.publish(post_channel(1), '{"t": "PostLiked", "post_id": "one"}')
        await bus.publish(PostLiked(post_id=1, actor_id=2))

        assert await next_event(subscription) == PostLiked(post_id=1, actor_id=2)
    assert "skipped a malformed message on pictograph:post:1" in caplog.text


async def test_subscriptions_end_when_the_bus_closes() -> None:
    async with open_event_bus(None) as bus:
        subscribed = asyncio.Event()

        async def listen() -> list[Event]:
            async with bus.subscribe(post_channel(1)) as subscription:
                subscribed.set()
                return [event async for event in subscription]

        listener = asyncio.create_task(listen())
        await subscribed.wait()

    async with asyncio.timeout(WAIT_SECONDS):
        assert await listener == []


async def test_a_publish_that_fails_is_logged_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"

    with caplog.at_level(logging.ERROR, logger="subscriptions.bus"):
        async with open_event_bus(nothing_listens) as bus:
            await bus.publish(PostLiked(post_id=1, actor_id=2))

    assert "could not publish PostLiked(post_id=1, actor_id=2)" in caplog.text


async def test_a_bus_url_other_than_redis_is_refused() -> None:
    with pytest.raises(ValueError, match="redis:// or rediss://"):
        async with open_event_bus("kafka://bus:9092"):
            pass
