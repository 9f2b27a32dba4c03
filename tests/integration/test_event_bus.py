"""The event bus on a real redis-server, as separate processes use it: each `EventBus` here
has connections of its own, as another server process would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis import asyncio as redis
from redis.exceptions import RedisError

from subscriptions.bus import EventBus, open_event_bus
from subscriptions.channels import post_channel, user_channel
from subscriptions.events import Event, MessageReceived, PostLiked
from subscriptions.subscription import SubscriberTooSlow, Subscription
from tests.servers import RedisProcess

WAIT_SECONDS = 20  # only bounds a failing test
RETRY_SECONDS = 0.1  # after Redis is back: how long to wait for an event before sending again
SMALL_QUEUE = 3


async def next_event(subscription: Subscription[Event]) -> Event:
    async with asyncio.timeout(WAIT_SECONDS):
        return await anext(subscription)


@pytest.fixture
async def publisher(redis_process: RedisProcess) -> AsyncIterator[EventBus]:
    async with open_event_bus(redis_process.url) as bus:
        yield bus


@pytest.fixture
async def receiver(redis_process: RedisProcess) -> AsyncIterator[EventBus]:
    async with open_event_bus(redis_process.url, subscriber_max_events=SMALL_QUEUE) as bus:
        yield bus


async def test_an_event_published_in_one_process_reaches_a_subscriber_in_another(
    publisher: EventBus, receiver: EventBus
) -> None:
    async with receiver.subscribe(post_channel(1)) as subscription:
        await publisher.publish(PostLiked(post_id=1, actor_id=2))

        assert await next_event(subscription) == PostLiked(post_id=1, actor_id=2)


async def test_a_subscriber_keeps_receiving_after_redis_restarts(
    redis_process: RedisProcess, publisher: EventBus, receiver: EventBus
) -> None:
    async with receiver.subscribe(user_channel(1)) as subscription:
        await publisher.publish(MessageReceived(user_id=1, thread_id=1, message_id=1, seq=1))
        assert await next_event(subscription) == MessageReceived(
            user_id=1, thread_id=1, message_id=1, seq=1
        )

        redis_process.stop()
        redis_process.start()
        # Sent until one arrives: those sent before the receiver resubscribed are lost, as
        # the bus only carries hints (clients catch up from the store).
        seq = 1
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                seq += 1
                await publisher.publish(
                    MessageReceived(user_id=1, thread_id=1, message_id=seq, seq=seq)
                )
                try:
                    async with asyncio.timeout(RETRY_SECONDS):
                        received = await anext(subscription)
                        break
                except TimeoutError:
                    continue
        # And after it: the next event arrives (late ones sent before it may come first).
        marker = MessageReceived(user_id=1, thread_id=1, message_id=seq + 1, seq=seq + 1)
        await publisher.publish(marker)
        while (event := await next_event(subscription)) != marker:
            assert isinstance(event, MessageReceived) and event.seq <= seq

    assert isinstance(received, MessageReceived) and 2 <= received.seq <= seq


async def test_a_slow_subscriber_is_dropped_with_the_documented_signal(
    publisher: EventBus, receiver: EventBus
) -> None:
    events = [
        MessageReceived(user_id=2, thread_id=2, message_id=seq, seq=seq)
        for seq in range(1, SMALL_QUEUE + 3)
    ]
    async with (
        receiver.subscribe(user_channel(2)) as slow,
        receiver.subscribe(user_channel(2)) as fast,
    ):
        received = []
        for event in events:
            await publisher.publish(event)
            received.append(await next_event(fast))  # the slow one was offered it as well

        with pytest.raises(SubscriberTooSlow) as dropped:
            await next_event(slow)

    assert received == events
    assert dropped.value.close_code == 4013


async def test_a_malformed_message_on_a_channel_is_skipped(
    redis_process: RedisProcess,
    publisher: EventBus,
    receiver: EventBus,
    caplog: pytest.LogCaptureFixture,
) -> None:
    foreign = redis.Redis.from_url(redis_process.url)
    try:
        async with receiver.subscribe(post_channel(3)) as subscription:
            await foreign.publish(post_channel(3), b"\xff not json")
            await foreign.publish(post_channel(3), '{"t": "PostLiked", "post_id": 3}')
            await publisher.publish(PostLiked(post_id=3, actor_id=4))

            assert await next_event(subscription) == PostLiked(post_id=3, actor_id=4)
    finally:
        await foreign.aclose()
    assert caplog.text.count("skipped a malformed message on pictograph:post:3") == 2


async def test_the_bus_is_ready_while_redis_answers_and_not_while_it_is_down(
    redis_process: RedisProcess, receiver: EventBus
) -> None:
    await receiver.ping()

    redis_process.stop()
    try:
        with pytest.raises((RedisError, OSError)):
            await receiver.ping()
    finally:
        redis_process.start()
