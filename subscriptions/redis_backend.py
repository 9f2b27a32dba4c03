"""broadcaster's `BroadcastBackend` on Redis pub/sub (redis.asyncio), which survives outages.

broadcaster 0.3.1's own Redis backend delivers nothing with redis-py 8 and never reconnects
(its subscribers hang after Redis drops). This one keeps the set of channels this process
wants in memory, reads on a connection of its own in a task that reconnects whenever the
connection fails or goes silent, and subscribes to every wanted channel again on each new
connection. Events published while Redis was away are lost: the store is the truth and
clients catch up by cursor; the bus only carries hints.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from broadcaster import BroadcastBackend, Event
from redis import asyncio as redis
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

logger = logging.getLogger(__name__)

# How soon to try again after the connection failed: fast enough that a restarted Redis is
# found within a second, slow enough not to spin while it is down.
RECONNECT_DELAY_SECONDS = 0.2
# The reader pings when the connection has said nothing this long, and gives the connection
# up when even the ping goes unanswered as long again: a silently dead link (a partition, a
# dropped NAT entry) is noticed within ~2x this, as Redis would never say anything on it.
IDLE_PING_SECONDS = 5.0
# A subscriber waits this long for Redis to confirm its channel, so that what is published
# after it subscribed reaches it; during an outage it goes on without (the reader subscribes
# it when Redis is back).
SUBSCRIBE_TIMEOUT_SECONDS = 2.0
# Publishing is on a mutation's path: with Redis unreachable it fails this fast instead.
CONNECT_TIMEOUT_SECONDS = 1.0
# Connections publishing at once. A PUBLISH takes well under a millisecond, so a burst
# (200 sends to a thread of five: 1,000 publishes at once) queues for one of these instead
# of opening a connection each: redis-py's default pool refuses the 101st at once with
# "Too many connections", and those events were lost.
PUBLISH_MAX_CONNECTIONS = 32


class RedisPubSubBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:  # broadcaster's base __init__ only raises
        self._url = url
        self._wanted: set[str] = set()
        self._received: asyncio.Queue[Event] = asyncio.Queue()
        self._publisher: redis.Redis | None = None
        self._pubsub: PubSub | None = None
        # Orders SUBSCRIBE and UNSUBSCRIBE as the wanted set changed.
        self._commands = asyncio.Lock()
        # Set when Redis confirms a SUBSCRIBE, for the subscribers waiting on it.
        self._confirmations: dict[str, asyncio.Event] = {}
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    def _client(self) -> redis.Redis:
        return redis.Redis.from_url(
            self._url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            # Failures surface to the reader, which owns reconnecting (redis-py's own
            # reconnect would resubscribe from state it keeps elsewhere).
            retry=Retry(NoBackoff(), 0),
        )

    def _publishing_client(self) -> redis.Redis:
        """Publishes wait for one of `PUBLISH_MAX_CONNECTIONS` (the bus bounds the wait)."""
        pool = redis.BlockingConnectionPool.from_url(
            self._url,
            max_connections=PUBLISH_MAX_CONNECTIONS,
            timeout=None,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        return redis.Redis.from_pool(pool)  # closed with the client

    async def connect(self) -> None:
        self._publisher = self._publishing_client()
        self._reader = asyncio.create_task(self._read_forever(), name="bus-redis-reader")

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._publisher is not None:
            await self._publisher.aclose()

    async def subscribe(self, channel: str) -> None:
        self._wanted.add(channel)
        confirmed = self._confirmations.setdefault(channel, asyncio.Event())
        try:
            await self._send("SUBSCRIBE", channel)
            await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("bus: Redis did not confirm %s; subscribed when it is back", channel)
        finally:
            if self._confirmations.get(channel) is confirmed:
                del self._confirmations[channel]

    async def unsubscribe(self, channel: str) -> None:
        self._wanted.discard(channel)
        await self._send("UNSUBSCRIBE", channel)

    async def publish(self, channel: str, message: Any) -> None:
        assert self._publisher is not None, "publish before connect"
        await self._publisher.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._received.get()

    async def ping(self) -> None:
        """Raises unless both publishing and receiving work now (for /readyz)."""
        assert self._publisher is not None, "ping before connect"
        await self._publisher.ping()
        if not self._connected.is_set():
            raise ConnectionError("the bus's subscriber connection to Redis is down")

    async def _send(self, command: str, channel: str) -> None:
        async with self._commands:
            pubsub = self._pubsub
            if pubsub is None:
                return  # not connected: the reader subscribes to every wanted channel
            try:
                await pubsub.execute_command(command, channel)
            except (RedisError, OSError) as error:
                # The reader notices the same failure and resubscribes on its next connection.
                logger.info(
                    "bus: %s %s failed (%s); left to the reconnect", command, channel, error
                )

    async def _read_forever(self) -> None:
        while True:
            try:
                await self._read_one_connection()
            except (RedisError, OSError) as error:
                logger.warning("bus: Redis connection lost (%s); reconnecting", error)
            except Exception:
                # Whatever went wrong, the reader must not die: every subscriber of this
                # process would hang. A fresh connection starts from a known state.
                logger.exception("bus: the Redis reader failed; reconnecting")
            finally:
                self._connected.clear()
                self._pubsub = None
            await asyncio.sleep(RECONNECT_DELAY_SECONDS)

    async def _read_one_connection(self) -> None:
        client = self._client()
        pubsub = client.pubsub()
        try:
            await pubsub.connect()  # type: ignore[no-untyped-call]  # untyped in redis-py
            async with self._commands:
                self._pubsub = pubsub
                if self._wanted:
                    await pubsub.execute_command("SUBSCRIBE", *self._wanted)
            self._connected.set()
            logger.info("bus: subscribed on Redis to %d channels", len(self._wanted))
            await self._read(pubsub)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
            await client.aclose()

    async def _read(self, pubsub: PubSub) -> None:
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=IDLE_PING_SECONDS)
            if message is None:
                if pinged:
                    raise ConnectionError(f"no answer from Redis in {2 * IDLE_PING_SECONDS}s")
                await pubsub.ping()
                pinged = True
                continue
            pinged = False
            if message["type"] == "subscribe":
                confirmed = self._confirmations.get(message["channel"].decode())
                if confirmed is not None:
                    confirmed.set()
            elif message["type"] == "message":
                # Bytes that are not UTF-8 pass through as surrogates, for the bus's strict
                # decoder to refuse (and skip) as it refuses any other malformed message.
                self._received.put_nowait(
                    Event(
                        channel=message["channel"].decode(),
                        message=message["data"].decode(errors="surrogateescape"),
                    )
                )
