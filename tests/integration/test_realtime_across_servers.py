"""Realtime across server processes that share one real redis-server for the event bus (and
the cache), as production runs several `pictograph serve` processes behind a balancer.

What runs where: INSTANCES `pictograph serve` OS processes (tests/servers.py AppProcess:
uvicorn, configured only through PICTOGRAPH_* variables, each with its own port and
PICTOGRAPH_WORKER_ID, and its own fan-out worker inside, as the suite's servers run), one
redis-server process they share for the bus, the cache and the fan-out jobs, and one
database process they share: `python -m tests.mongo_wire`, a MongoDB wire-protocol server
backed by mongomock (no MongoDB server can be installed on this machine, and mongomock on
its own lives inside one Python process), which the servers reach through motor at a
mongodb:// URL as they would reach MongoDB. With PICTOGRAPH_TEST_MONGODB_URL set, they share
that real MongoDB instead. This test process is only their client: it talks GraphQL over
HTTP and WebSockets to them, stops and starts the redis-server, and reads what the servers
log. So an event published by one process reaches the other only through Redis pub/sub,
which is what these tests are about.

Every test ends with what a client holds: pushes, merged with the catch-up read
(`ThreadMessages(afterSeq:)`) where a push may have been missed, deduplicated by seq; and
checks that it is every stored message exactly once, in order. The push is a hint, the
store is the truth.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from subscriptions.subscription import SUBSCRIBER_TOO_SLOW_CLOSE_CODE
from tests.client import Account, GraphQLClient
from tests.conftest import TEST_FANOUT_MAX_FOLLOWERS, TEST_MONGODB_URL_VARIABLE, make_settings
from tests.contract import operation_source
from tests.media import jpeg
from tests.servers import AppProcess, RedisProcess, app_processes, free_port, mongo_wire_server
from tests.ws import (
    close_code,
    first_pushed,
    next_data,
    nothing_within,
    socket,
    subscribe,
)

INSTANCES = 2
FORBIDDEN = 4403
SESSION_END_BOUND_SECONDS = 1.0  # the bound on closing a revoked session's sockets
CONCURRENT_SENDS = 200
SENDERS = 4  # the 200 sends come from this many people, through both instances
RETRIED_SENDS = 20  # of which this many are sent twice at once with one clientId
# How long the bus's Redis reader may take to find a restarted Redis and subscribe again
# (it retries every 0.2 s); a generous bound, not a performance claim.
RECONNECT_GIVE_UP_SECONDS = 15.0
# How long a test waits to see that nothing more is pushed: pushes across Redis on this
# machine take milliseconds, so one pushed twice arrives well within it.
NOTHING_WITHIN_SECONDS = 1.0


@dataclass(frozen=True)
class Instance:
    url: str
    graphql: GraphQLClient
    process: AppProcess

    async def run(self, operation: str, account: Account | None, **variables: Any) -> Any:
        return await self.graphql.run(operation, account, **variables)

    async def send(
        self, sender: Account, text: str, client_id: str | None = None, **target: Any
    ) -> dict[str, Any]:
        payload = await self.run(
            "SendMessage", sender, text=text, clientId=client_id or uuid.uuid4().hex, **target
        )
        assert payload["errors"] == [], payload["errors"]
        message: dict[str, Any] = payload["message"]
        return message

    async def thread_messages(self, reader: Account, thread_id: str, after_seq: int) -> list[Any]:
        """Every message after `after_seq`, paged as a client catching up pages."""
        found: list[Any] = []
        while True:
            thread = await self.run(
                "ThreadMessages", reader, threadId=thread_id, afterSeq=after_seq, first=100
            )
            page = [edge["node"] for edge in thread["messages"]["edges"]]
            found.extend(page)
            if not thread["messages"]["pageInfo"]["hasNextPage"]:
                return found
            after_seq = page[-1]["seq"]


@dataclass(frozen=True)
class Cluster:
    instances: list[Instance]
    redis: RedisProcess

    def log_marks(self) -> list[int]:
        """Where each server process's log ends now."""
        return [len(instance.process.log()) for instance in self.instances]

    def logged_since(self, marks: list[int]) -> str:
        """What the server processes have logged since `marks`."""
        return "".join(
            instance.process.log()[mark:]
            for instance, mark in zip(self.instances, marks, strict=True)
        )

    @property
    def a(self) -> Instance:
        return self.instances[0]

    @property
    def b(self) -> Instance:
        return self.instances[1]


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[RedisProcess]:
    """A redis-server of this module's own, persistent, which a test restarts."""
    with tempfile.TemporaryDirectory() as directory:
        server = RedisProcess(directory, persistent=True)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def mongodb_url() -> Iterator[str]:
    """The MongoDB every server process shares: the one configured, else a wire server."""
    if url := os.environ.get(TEST_MONGODB_URL_VARIABLE):
        yield url
        return
    with mongo_wire_server() as server:
        yield server.url


@pytest.fixture(scope="module")
async def cluster(
    shared_redis: RedisProcess, mongodb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    directory = tmp_path_factory.mktemp("cluster")
    shared = make_settings(
        shared_redis.url,
        mongodb_url=mongodb_url,
        broadcast_url=shared_redis.url,
        media_dir=str(directory / "media"),
        fanout_in_server=True,
        fanout_max_followers=TEST_FANOUT_MAX_FOLLOWERS,
    )
    settings = [
        # worker_id: unique per process, as it is part of every id
        shared.model_copy(update={"port": free_port(), "worker_id": number + 1})
        for number in range(INSTANCES)
    ]
    with app_processes(settings, str(directory)) as processes:
        async with AsyncExitStack() as stack:
            instances = []
            for process in processes:
                http = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=process.url, timeout=30)
                )
                instances.append(Instance(process.url, GraphQLClient(http), process))
            yield Cluster(instances, shared_redis)


async def new_post(instance: Instance, author: Account) -> str:
    payload = await instance.graphql.create_post(author, [jpeg(64, 48)])
    assert payload["errors"] == []
    post_id: str = payload["post"]["id"]
    return post_id


def pushed_message(data: Any) -> dict[str, Any]:
    message: dict[str, Any] = data["messageReceived"]
    return message


# ------------------------------------------------------------- one to the other


async def test_a_like_made_through_one_instance_reaches_a_subscriber_of_the_other(
    cluster: Cluster,
) -> None:
    author = await cluster.a.graphql.sign_up()
    fans = [await cluster.a.graphql.sign_up() for _ in range(20)]
    post = await new_post(cluster.a, author)
    async with socket(cluster.b.url, author.token) as ws:
        await subscribe(ws, "1", operation_source("PostLiked"), {"postId": post})

        async def like(attempt: int) -> None:
            await cluster.a.run("LikePost", fans[attempt], postId=post)

        attempt, data = await first_pushed(ws, like)
        assert data["postLiked"]["user"]["id"] == fans[attempt].id
        assert data["postLiked"]["post"] == {"id": post, "likeCount": attempt + 1}


async def test_a_comment_made_through_one_instance_reaches_a_subscriber_of_the_other(
    cluster: Cluster,
) -> None:
    author, fan = await cluster.a.graphql.sign_up(), await cluster.a.graphql.sign_up()
    post = await new_post(cluster.a, author)
    async with socket(cluster.b.url, author.token) as ws:
        await subscribe(ws, "1", operation_source("CommentAdded"), {"postId": post})

        async def comment(attempt: int) -> None:
            await cluster.a.run("AddComment", fan, postId=post, text=f"c{attempt}")

        attempt, data = await first_pushed(ws, comment)
        assert data["commentAdded"]["text"] == f"c{attempt}"
        # And the next one too, once the subscription is known to be listening
        await cluster.a.run("AddComment", fan, postId=post, text="next")
        assert (await next_data(ws))["commentAdded"]["text"] == "next"


async def test_a_message_sent_through_one_instance_reaches_a_subscriber_of_the_other(
    cluster: Cluster,
) -> None:
    alice, bob = await cluster.a.graphql.sign_up(), await cluster.a.graphql.sign_up()
    async with socket(cluster.b.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))

        async def send(attempt: int) -> None:
            await cluster.a.send(bob, f"m{attempt}", recipientIds=[alice.id])

        attempt, data = await first_pushed(ws, send)
        assert (pushed_message(data)["text"], pushed_message(data)["seq"]) == (
            f"m{attempt}",
            attempt + 1,
        )


async def test_log_out_through_one_instance_closes_the_sockets_on_the_other_within_a_second(
    cluster: Cluster,
) -> None:
    alice = await cluster.a.graphql.sign_up()
    async with (
        socket(cluster.b.url, alice.token) as on_b,
        socket(cluster.a.url, alice.token) as on_a,
    ):
        await subscribe(on_b, "1", operation_source("MessageReceived"))
        assert await cluster.a.run("LogOut", alice) == {"ok": True}
        codes = await asyncio.gather(
            close_code(on_b, SESSION_END_BOUND_SECONDS),
            close_code(on_a, SESSION_END_BOUND_SECONDS),
        )
        assert list(codes) == [FORBIDDEN, FORBIDDEN]


# ----------------------------------------------------------- nothing lost, nothing twice


class Inbox:
    """What a client shows of one thread: messages by seq, from pushes and catch-up."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self.by_seq: dict[int, dict[str, Any]] = {}
        self.pushed_ids: list[str] = []

    def push(self, message: dict[str, Any]) -> None:
        if message["thread"]["id"] != self.thread_id:
            return
        self.pushed_ids.append(message["id"])
        self.keep(message)

    def keep(self, message: dict[str, Any]) -> None:
        earlier = self.by_seq.setdefault(message["seq"], message)
        assert earlier["id"] == message["id"], "two messages with one seq"

    @property
    def last_seq(self) -> int:
        """The last seq seen with none missing before it: where catch-up starts."""
        seq = 0
        while seq + 1 in self.by_seq:
            seq += 1
        return seq


async def drain(ws: Any, inbox: Inbox, count: int) -> None:
    for _ in range(count):
        inbox.push(pushed_message(await next_data(ws)))


async def test_a_subscriber_that_reconnects_catches_up_every_message_exactly_once(
    cluster: Cluster,
) -> None:
    # Given alice subscribed on one instance to a thread bob writes to through the other
    alice, bob = await cluster.a.graphql.sign_up(), await cluster.a.graphql.sign_up()
    first = await cluster.a.send(bob, "m0", recipientIds=[alice.id])
    inbox = Inbox(first["thread"]["id"])
    inbox.keep(first)
    sent = [first]

    async def send(attempt: int) -> None:
        sent.append(await cluster.a.send(bob, f"m{len(sent)}", threadId=inbox.thread_id))

    async with socket(cluster.b.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        _, data = await first_pushed(ws, send)
        inbox.push(pushed_message(data))
        for _ in range(5):
            await send(0)
        await drain(ws, inbox, 5)
    # When she is offline while ten more are sent
    for _ in range(10):
        await send(0)
    # And reconnects (to the other instance), subscribing before she catches up, while
    # messages keep coming
    async with socket(cluster.a.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        _, data = await first_pushed(ws, send)
        inbox.push(pushed_message(data))
        caught_up = await cluster.b.thread_messages(alice, inbox.thread_id, inbox.last_seq)
        for message in caught_up:
            inbox.keep(message)
        for _ in range(5):
            await send(0)
        await drain(ws, inbox, 5)
    # Then she holds every message exactly once, in order, and no push came twice
    assert [inbox.by_seq[seq]["id"] for seq in sorted(inbox.by_seq)] == [m["id"] for m in sent]
    assert sorted(inbox.by_seq) == list(range(1, len(sent) + 1))
    assert len(inbox.pushed_ids) == len(set(inbox.pushed_ids))


async def test_subscribers_keep_receiving_after_redis_restarts_and_catch_up_the_outage(
    cluster: Cluster,
) -> None:
    # Given alice subscribed on one instance, bob sending through the other
    alice, bob = await cluster.a.graphql.sign_up(), await cluster.a.graphql.sign_up()
    first = await cluster.a.send(bob, "before", recipientIds=[alice.id])
    inbox = Inbox(first["thread"]["id"])
    inbox.keep(first)
    sent = [first]

    async def send(attempt: int) -> None:
        sent.append(await cluster.a.send(bob, f"m{len(sent)}", threadId=inbox.thread_id))

    async with socket(cluster.b.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        _, data = await first_pushed(ws, send)
        inbox.push(pushed_message(data))
        # When Redis stops, messages are sent meanwhile (stored; their pushes are lost),
        # and Redis comes back
        cluster.redis.stop()
        try:
            for _ in range(5):
                await send(0)
        finally:
            cluster.redis.start()
        # Then the same subscription receives again once the bus has resubscribed (sends
        # until one is pushed: those before it are lost with the outage's)
        _, data = await asyncio.wait_for(first_pushed(ws, send), RECONNECT_GIVE_UP_SECONDS)
        inbox.push(pushed_message(data))
        # And what was sent meanwhile is found by catch-up
        caught_up = await cluster.b.thread_messages(alice, inbox.thread_id, inbox.last_seq)
        for message in caught_up:
            inbox.keep(message)
        assert sorted(inbox.by_seq) == list(range(1, len(sent) + 1))
        assert [inbox.by_seq[seq]["id"] for seq in sorted(inbox.by_seq)] == [m["id"] for m in sent]
        assert len(inbox.pushed_ids) == len(set(inbox.pushed_ids))


async def test_concurrent_sends_to_one_thread_get_every_seq_once_and_retries_their_first(
    cluster: Cluster,
) -> None:
    # Given a thread of five, whose one reader is subscribed on one instance
    reader = await cluster.a.graphql.sign_up()
    senders = [await cluster.a.graphql.sign_up() for _ in range(SENDERS)]
    opened = await cluster.a.send(
        senders[0], "open", recipientIds=[reader.id, *(s.id for s in senders[1:])]
    )
    thread_id = opened["thread"]["id"]
    inbox = Inbox(thread_id)
    inbox.keep(opened)
    async with socket(cluster.b.url, reader.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        primers: list[dict[str, Any]] = []

        async def prime(attempt: int) -> None:
            primers.append(await cluster.a.send(senders[0], "prime", threadId=thread_id))

        _, data = await first_pushed(ws, prime)
        for message in primers:
            inbox.keep(message)
        inbox.push(pushed_message(data))
        before = len(primers) + 1  # the seqs taken before the burst
        # When 200 sends race, spread over the senders and both instances, some of them
        # sent twice at once with one clientId (a client retrying a request it timed out on)
        client_ids = [uuid.uuid4().hex for _ in range(CONCURRENT_SENDS)]

        async def one_send(number: int) -> dict[str, Any]:
            instance = cluster.instances[number % INSTANCES]
            sender = senders[number % SENDERS]
            return await instance.send(
                sender, f"burst {number}", client_ids[number], threadId=thread_id
            )

        retried = range(RETRIED_SENDS)
        marks = cluster.log_marks()
        results = await asyncio.gather(
            *(one_send(number) for number in range(CONCURRENT_SENDS)),
            *(one_send(number) for number in retried),
        )
        firsts, retries = results[:CONCURRENT_SENDS], results[CONCURRENT_SENDS:]
        # Then the 200 got the seqs after the ones before, each once, with no gap
        seqs = sorted(message["seq"] for message in firsts)
        assert seqs == list(range(before + 1, before + 1 + CONCURRENT_SENDS))
        # And every retry was answered with its first message
        assert [m["id"] for m in retries] == [firsts[number]["id"] for number in retried]
        # And the burst queued for Redis connections instead of skipping what needs them
        assert "Too many connections" not in cluster.logged_since(marks)
        # And the subscriber was pushed each one once, unless it fell more than its queue
        # behind (4013), when it catches up as a reconnecting client does
        dropped = await drain_until_closed(ws, inbox, CONCURRENT_SENDS)
    everything = before + CONCURRENT_SENDS
    if dropped:
        for message in await cluster.a.thread_messages(reader, thread_id, inbox.last_seq):
            inbox.keep(message)
    assert len(inbox.pushed_ids) == len(set(inbox.pushed_ids))
    assert sorted(inbox.by_seq) == list(range(1, everything + 1))
    stored = await cluster.a.thread_messages(reader, thread_id, 0)
    assert [m["id"] for m in stored] == [inbox.by_seq[seq]["id"] for seq in sorted(inbox.by_seq)]


async def drain_until_closed(ws: Any, inbox: Inbox, count: int) -> bool:
    """Reads `count` pushes; True if the server dropped the subscriber first (4013)."""
    try:
        await drain(ws, inbox, count)
    except ConnectionClosed as closed:
        code = None if closed.rcvd is None else closed.rcvd.code
    else:
        return False
    assert code == SUBSCRIBER_TOO_SLOW_CLOSE_CODE
    return True


async def test_a_send_retried_while_the_first_is_in_flight_is_pushed_once(
    cluster: Cluster,
) -> None:
    # Given a subscribed reader of a thread
    reader, sender = await cluster.a.graphql.sign_up(), await cluster.a.graphql.sign_up()
    opened = await cluster.a.send(sender, "open", recipientIds=[reader.id])
    thread_id = opened["thread"]["id"]
    inbox = Inbox(thread_id)
    inbox.keep(opened)
    async with socket(cluster.b.url, reader.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))

        async def prime(attempt: int) -> None:
            inbox.keep(await cluster.a.send(sender, "prime", threadId=thread_id))

        _, data = await first_pushed(ws, prime)
        inbox.push(pushed_message(data))
        # When each of a few sends is sent again at once with its clientId, through the
        # other instance, as a client retrying a request it gave up on
        client_ids = [uuid.uuid4().hex for _ in range(RETRIED_SENDS)]
        results = await asyncio.gather(
            *(
                instance.send(sender, f"r{number}", client_id, threadId=thread_id)
                for number, client_id in enumerate(client_ids)
                for instance in cluster.instances
            )
        )
        # Then each pair got one message, which was pushed once
        firsts, seconds = results[0::2], results[1::2]
        assert [m["id"] for m in firsts] == [m["id"] for m in seconds]
        await drain(ws, inbox, RETRIED_SENDS)
        assert await nothing_within(ws, NOTHING_WITHIN_SECONDS)
    assert sorted(inbox.pushed_ids[1:]) == sorted(m["id"] for m in firsts)
