"""Subscriptions over graphql-transport-ws: each one delivers what it names to whoever may
see it at the moment of the event, bad input is refused with the protocol's close code or
an error naming the argument, and a socket lives no longer than its session."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, cast

import pytest
from websockets.asyncio.client import connect

from app.server import MAX_WEBSOCKET_MESSAGE_BYTES
from app.services import Runtime
from media.decode_slots import MAX_CONCURRENT_TRANSCODES
from resolvers.context import Context, Services
from resolvers.ids import parse_global_id, to_global_id
from resolvers.subscription import MAX_SUBSCRIPTIONS_PER_CONNECTION
from schema import build_schema
from subscriptions.bus import open_event_bus
from subscriptions.channels import post_channel, user_channel
from subscriptions.events import (
    CommentAdded,
    MessageReceived,
    NotificationReceived,
    PostLiked,
)
from subscriptions.subscription import SUBSCRIBER_TOO_SLOW_CLOSE_CODE
from tests.client import Account
from tests.conftest import (
    insert_post,
    insert_user,
)
from tests.contract import operation_source
from tests.reels import create_reel
from tests.served import Server, own_server
from tests.ws import (
    GRAPHQL_TRANSPORT_WS,
    close_code,
    next_data,
    nothing_within,
    open_socket,
    receive,
    socket,
    subscribe,
    until,
    ws_url,
)

FORBIDDEN = 4403
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INITIALISATIONS = 4429
MESSAGE_TOO_BIG = 1009  # RFC 6455
# The bound: a revoked or expired session's sockets close within a second.
SESSION_END_BOUND_SECONDS = 1.0
SHORT_SESSION = timedelta(seconds=1.5)
WAIT_SECONDS = 10.0
# How long a test waits to see that an event it caused is not pushed: delivery on this
# in-process bus takes milliseconds, so one pushed by mistake arrives well within it.
NOTHING_WITHIN_SECONDS = 1.0
REEL_PROCESSED = """subscription ($reelId: ID!) {
  reelProcessed(reelId: $reelId) { id status failureReason video { url } } }"""


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with own_server(tmp_path_factory) as served:
        yield served


def user_id(account: Account) -> int:
    parsed = parse_global_id(account.id)
    assert parsed is not None
    return parsed[1]


def post_id(global_id: str) -> int:  # any record's: a post's, a notification's
    parsed = parse_global_id(global_id)
    assert parsed is not None
    return parsed[1]


# ------------------------------------------------------------------ what each delivers


async def test_a_like_reaches_a_subscriber_of_the_post(server: Server) -> None:
    author, fan = await server.graphql.sign_up(), await server.graphql.sign_up()
    post = await server.post(author)
    async with socket(server.url, author.token) as ws:
        await subscribe(ws, "1", operation_source("PostLiked"), {"postId": post})
        await server.subscribed(post_channel(post_id(post)))

        await server.run("LikePost", fan, postId=post)

        data = await next_data(ws)
        assert data == {
            "postLiked": {
                "post": {"id": post, "likeCount": 1},
                "user": {"id": fan.id, "username": fan.username},
            }
        }


async def test_liking_again_or_unliking_pushes_nothing(server: Server) -> None:
    author, fan, other = [await server.graphql.sign_up() for _ in range(3)]
    post = await server.post(author)
    async with socket(server.url, author.token) as ws:
        await subscribe(ws, "1", operation_source("PostLiked"), {"postId": post})
        await server.subscribed(post_channel(post_id(post)))
        # When the fan likes twice and unlikes, then another likes
        await server.run("LikePost", fan, postId=post)
        await server.run("LikePost", fan, postId=post)
        await server.run("UnlikePost", fan, postId=post)
        await server.run("LikePost", other, postId=post)
        # Then two likes were pushed: the fan's first, then the other's
        first, second = await next_data(ws), await next_data(ws)
        assert first["postLiked"]["user"]["id"] == fan.id
        assert second["postLiked"]["user"]["id"] == other.id
        assert second["postLiked"]["post"]["likeCount"] == 1


async def test_a_comment_reaches_a_subscriber_of_the_post(server: Server) -> None:
    author, fan = await server.graphql.sign_up(), await server.graphql.sign_up()
    post = await server.post(author)
    async with socket(server.url, author.token) as ws:
        await subscribe(ws, "1", operation_source("CommentAdded"), {"postId": post})
        await server.subscribed(post_channel(post_id(post)))

        added = await server.run("AddComment", fan, postId=post, text="nice")

        data = await next_data(ws)
        assert data["commentAdded"] == {
            "id": added["comment"]["id"],
            "text": "nice",
            "createdAt": added["comment"]["createdAt"],
            "author": added["comment"]["author"],
        }


async def test_every_message_of_every_thread_reaches_each_participant(server: Server) -> None:
    # Given alice subscribed before any of her threads existed
    alice, bob, carol = [await server.graphql.sign_up() for _ in range(3)]
    async with socket(server.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        await server.subscribed(user_channel(user_id(alice)))
        # When bob opens a thread with her, she answers, and carol opens a group thread
        one = await server.send(bob, "hi alice", recipientIds=[alice.id])
        two = await server.send(alice, "hi bob", threadId=one["thread"]["id"])
        three = await server.send(carol, "hi both", recipientIds=[alice.id, bob.id])
        # Then she receives all three, her own included, as a query would show them
        received = [(await next_data(ws))["messageReceived"] for _ in range(3)]
        assert [m["id"] for m in received] == [one["id"], two["id"], three["id"]]
        assert [(m["seq"], m["thread"]["id"]) for m in received] == [
            (1, one["thread"]["id"]),
            (2, one["thread"]["id"]),
            (1, three["thread"]["id"]),
        ]
        assert received[0]["sender"] == {"id": bob.id, "username": bob.username}


async def test_a_member_who_left_a_group_is_pushed_nothing_of_it(server: Server) -> None:
    # Given carol subscribed to her messages, in a group of three she then leaves
    alice, bob, carol = [await server.graphql.sign_up() for _ in range(3)]
    group = (await server.send(alice, "hi all", recipientIds=[bob.id, carol.id]))["thread"]
    async with socket(server.url, carol.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        await server.subscribed(user_channel(user_id(carol)))
        left = await server.graphql.data(
            "mutation ($id: ID!) { leaveThread(threadId: $id) { ok } }",
            {"id": group["id"]},
            token=carol.token,
        )
        assert left == {"leaveThread": {"ok": True}}
        # When bob writes to the group, and a copy of it is announced to carol anyway (as a
        # send that read the group's people just before she left would announce it)
        after = await server.send(bob, "without carol", threadId=group["id"])
        await server.app.state.services.bus.publish(
            MessageReceived(
                user_id=user_id(carol),
                thread_id=post_id(group["id"]),
                message_id=post_id(after["id"]),
                seq=after["seq"],
            )
        )
        # Then she is pushed nothing of it, and her own threads still reach her
        mine = await server.send(alice, "just us", recipientIds=[carol.id])
        assert (await next_data(ws))["messageReceived"]["id"] == mine["id"]


async def test_a_retried_send_pushes_its_message_once(server: Server) -> None:
    alice, bob = await server.graphql.sign_up(), await server.graphql.sign_up()
    async with socket(server.url, bob.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        await server.subscribed(user_channel(user_id(bob)))
        variables = {"recipientIds": [bob.id], "text": "once", "clientId": "retry-1"}
        first = await server.run("SendMessage", alice, **variables)
        again = await server.run("SendMessage", alice, **variables)
        after = await server.send(alice, "after", recipientIds=[bob.id])

        assert again["message"]["id"] == first["message"]["id"]
        received = [(await next_data(ws))["messageReceived"]["id"] for _ in range(2)]
        assert received == [first["message"]["id"], after["id"]]


async def test_a_notification_reaches_its_receiver_and_no_one_else(server: Server) -> None:
    # Given alice and carol both subscribed to their notifications
    alice, carol, fan = [await server.graphql.sign_up() for _ in range(3)]
    async with socket(server.url, alice.token) as alices, socket(server.url, carol.token) as carols:
        await subscribe(alices, "1", operation_source("NotificationReceived"))
        await subscribe(carols, "1", operation_source("NotificationReceived"))
        await server.subscribed(user_channel(user_id(alice)))
        await server.subscribed(user_channel(user_id(carol)))
        # When a fan follows alice (the worker writes the notification after the mutation)
        await server.run("FollowUser", fan, userId=alice.id)
        # Then alice is told, as her notifications list shows it, and carol is not
        pushed = (await next_data(alices))["notificationReceived"]
        assert (pushed["kind"], pushed["actors"]) == (
            "FOLLOW",
            [{"id": fan.id, "username": fan.username}],
        )
        listed = await server.run("Notifications", alice)
        assert [edge["node"]["id"] for edge in listed["edges"]] == [pushed["id"]]
        assert await nothing_within(carols, NOTHING_WITHIN_SECONDS)


@asynccontextmanager
async def transcodes_held(server: Server) -> AsyncIterator[None]:
    """Every transcode slot of the server's worker taken until the block ends: a video job
    queued meanwhile waits, so a test can subscribe before the job ends."""
    slots = server.app.state.runtime.jobs.transcode_slots
    release = threading.Event()
    holders = [
        asyncio.ensure_future(slots.run(release.wait)) for _ in range(MAX_CONCURRENT_TRANSCODES)
    ]
    try:
        yield
    finally:
        release.set()
        await asyncio.gather(*holders)


async def test_the_author_is_told_when_a_reel_is_processed(server: Server) -> None:
    # Given a reel just created, still PROCESSING, and its author subscribed to its end
    author = await server.graphql.sign_up()
    async with transcodes_held(server):
        created = await create_reel(server.graphql, author)
        reel_id = created["reel"]["id"]
        assert created["reel"]["status"] == "PROCESSING"
        ws = await open_socket(server.url, author.token)
        await subscribe(ws, "1", REEL_PROCESSED, {"reelId": reel_id})
        await server.subscribed(post_channel(post_id(reel_id)))
    # When the worker transcodes it (the slots are free again)
    pushed = (await next_data(ws))["reelProcessed"]
    # Then the author is pushed the READY reel, with its video
    assert (pushed["id"], pushed["status"]) == (reel_id, "READY")
    assert pushed["video"]["url"].startswith("http")
    await ws.close()


async def test_subscribing_to_another_users_processing_reel_is_refused_naming_reel_id(
    server: Server,
) -> None:
    author, stranger = await server.graphql.sign_up(), await server.graphql.sign_up()
    async with transcodes_held(server):
        reel_id = (await create_reel(server.graphql, author))["reel"]["id"]
        async with socket(server.url, stranger.token) as ws:
            await subscribe(ws, "1", REEL_PROCESSED, {"reelId": reel_id})
            refused = await receive(ws)
    assert refused["type"] == "next"
    [error] = refused["payload"]["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "reelId",
    )


# ------------------------------------------------------------- permission per event


async def test_a_receiver_blocked_after_subscribing_stops_receiving(server: Server) -> None:
    # Given alice subscribed to likes on bob's post, and received one
    alice, bob, fan, late = [await server.graphql.sign_up() for _ in range(4)]
    post = await server.post(bob)
    async with socket(server.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("PostLiked"), {"postId": post})
        await server.subscribed(post_channel(post_id(post)))
        await server.run("LikePost", fan, postId=post)
        assert (await next_data(ws))["postLiked"]["user"]["id"] == fan.id
        # When bob blocks her and someone else likes the post
        await server.run("BlockUser", bob, userId=alice.id)
        await server.run("LikePost", late, postId=post)
        # Then that like never reaches her
        assert await nothing_within(ws, NOTHING_WITHIN_SECONDS)


async def test_a_liker_who_blocked_the_receiver_is_not_pushed(server: Server) -> None:
    alice, bob, blocker, fan = [await server.graphql.sign_up() for _ in range(4)]
    post = await server.post(bob)
    await server.run("BlockUser", blocker, userId=alice.id)
    async with socket(server.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("PostLiked"), {"postId": post})
        await server.subscribed(post_channel(post_id(post)))
        await server.run("LikePost", blocker, postId=post)
        await server.run("LikePost", fan, postId=post)

        assert (await next_data(ws))["postLiked"]["user"]["id"] == fan.id


async def test_an_unfollower_of_a_private_account_stops_receiving(server: Server) -> None:
    # Given alice follows the private bob and subscribed to comments on his post
    alice = await server.graphql.sign_up()
    bob = await server.graphql.sign_up(private=True)
    post = await server.post(bob)
    await server.run("FollowUser", alice, userId=bob.id)
    approved = await server.run("RespondToFollowRequest", bob, userId=alice.id, approve=True)
    assert approved["errors"] == []
    async with socket(server.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("CommentAdded"), {"postId": post})
        await server.subscribed(post_channel(post_id(post)))
        await server.run("AddComment", bob, postId=post, text="while followed")
        assert (await next_data(ws))["commentAdded"]["text"] == "while followed"
        # When she unfollows him and he comments again
        await server.run("UnfollowUser", alice, userId=bob.id)
        await server.run("AddComment", bob, postId=post, text="after the unfollow")
        # Then that comment never reaches her
        assert await nothing_within(ws, NOTHING_WITHIN_SECONDS)


async def test_an_event_naming_a_notification_the_receiver_may_not_see_is_not_pushed(
    server: Server,
) -> None:
    # Given carol has a notification, and alice subscribed to hers
    alice, carol, fan = [await server.graphql.sign_up() for _ in range(3)]
    await server.run("FollowUser", fan, userId=carol.id)
    carols = await until_listed(server, carol)
    async with socket(server.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("NotificationReceived"))
        await server.subscribed(user_channel(user_id(alice)))
        # When an event on alice's channel names carol's notification, then one of her own
        bus = server.app.state.services.bus
        await bus.publish(NotificationReceived(user_id(alice), post_id(carols[0])))
        await server.run("FollowUser", fan, userId=alice.id)
        # Then only her own is pushed: each event is loaded as her notifications list would
        pushed = (await next_data(ws))["notificationReceived"]
        assert pushed["actors"] == [{"id": fan.id, "username": fan.username}]
        assert pushed["id"] != carols[0]


async def until_listed(server: Server, account: Account) -> list[str]:
    """The ids of `account`'s notifications, once the worker has written one."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            page = await server.run("Notifications", account)
            if ids := [edge["node"]["id"] for edge in page["edges"]]:
                return ids
            await asyncio.sleep(0.02)


async def test_a_deleted_comment_is_not_pushed(server: Server) -> None:
    author, fan = await server.graphql.sign_up(), await server.graphql.sign_up()
    post = await server.post(author)
    async with socket(server.url, author.token) as ws:
        await subscribe(ws, "1", operation_source("CommentAdded"), {"postId": post})
        await server.subscribed(post_channel(post_id(post)))
        # The event only names the comment: gone by the time it is loaded, it is skipped
        services = server.app.state.services
        missing = CommentAdded(post_id=post_id(post), comment_id=services.ids.next_id())
        await services.bus.publish(missing)
        added = await server.run("AddComment", fan, postId=post, text="real")

        assert (await next_data(ws))["commentAdded"]["id"] == added["comment"]["id"]


# ------------------------------------------------------------------------ bad input


async def test_subscribing_to_a_post_one_may_not_see_is_refused_naming_post_id(
    server: Server,
) -> None:
    alice = await server.graphql.sign_up()
    private = await server.graphql.sign_up(private=True)
    hidden = await server.post(private)
    async with socket(server.url, alice.token) as ws:
        for operation_id, post in (
            ("1", hidden),
            ("2", "not-an-id"),
            ("3", to_global_id("Post", 1)),
        ):
            await subscribe(ws, operation_id, operation_source("PostLiked"), {"postId": post})
            refused = await receive(ws)
            assert refused["type"] == "next" and refused["id"] == operation_id
            [error] = refused["payload"]["errors"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT"
            assert error["extensions"]["field"] == "postId"
            assert await receive(ws) == {"id": operation_id, "type": "complete"}
        # And the socket goes on serving
        await subscribe(ws, "4", "query { viewer { id } }")
        assert await next_data(ws) == {"viewer": {"id": alice.id}}


async def test_subscriptions_need_a_signed_in_viewer(server: Server) -> None:
    author = await server.graphql.sign_up()
    post = await server.post(author)
    async with socket(server.url, None) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        refused = await receive(ws)
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        await receive(ws)  # complete
        await subscribe(ws, "2", operation_source("CommentAdded"), {"postId": post})
        refused = await receive(ws)
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_refused_token_gets_4403(server: Server) -> None:
    async with connect(ws_url(server.url), subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        init = {"type": "connection_init", "payload": {"authorization": "Bearer nope"}}
        await ws.send(json.dumps(init))
        assert await close_code(ws) == FORBIDDEN


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        json.dumps({"type": "nonsense"}),
        json.dumps({"id": "1"}),
        json.dumps([1]),
        json.dumps({"id": "1", "type": "subscribe"}),
        json.dumps({"id": "1", "type": "subscribe", "payload": "query { viewer { id } }"}),
        json.dumps({"id": 1, "type": "subscribe", "payload": {"query": "{ viewer { id } }"}}),
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": 1}}),
    ],
    ids=[
        "not-json",
        "unknown-type",
        "no-type",
        "not-an-object",
        "subscribe-without-payload",
        "payload-not-an-object",
        "id-not-a-string",
        "query-not-a-string",
    ],
)
async def test_a_malformed_message_gets_4400(server: Server, message: str) -> None:
    account = await server.graphql.sign_up()
    ws = await open_socket(server.url, account.token)
    await ws.send(message)
    assert await close_code(ws) == BAD_REQUEST


async def test_a_message_over_the_size_bound_closes_the_socket_with_1009(server: Server) -> None:
    # Given an acknowledged socket
    account = await server.graphql.sign_up()
    ws = await open_socket(server.url, account.token)
    # When it sends a subscribe message over the bound a POST body has
    query = "subscription { messageReceived { id } }"
    padding = " " * MAX_WEBSOCKET_MESSAGE_BYTES
    await ws.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query + padding}})
    )
    # Then the server refuses it unread, and goes on serving others
    assert await close_code(ws) == MESSAGE_TOO_BIG
    async with socket(server.url, account.token) as other:
        await subscribe(other, "1", operation_source("MessageReceived"))
        await server.subscribed(user_channel(user_id(account)))


async def test_subscribing_before_connection_ack_gets_4401(server: Server) -> None:
    async with connect(ws_url(server.url), subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        assert await close_code(ws) == UNAUTHORIZED


async def test_a_second_connection_init_gets_4429(server: Server) -> None:
    account = await server.graphql.sign_up()
    ws = await open_socket(server.url, account.token)
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert await close_code(ws) == TOO_MANY_INITIALISATIONS


async def test_a_duplicate_operation_id_gets_4409(server: Server) -> None:
    account = await server.graphql.sign_up()
    ws = await open_socket(server.url, account.token)
    await subscribe(ws, "same", operation_source("MessageReceived"))
    await subscribe(ws, "same", operation_source("MessageReceived"))
    assert await close_code(ws) == SUBSCRIBER_EXISTS


async def test_one_operation_past_the_limit_gets_an_error_and_the_socket_stays_open(
    server: Server,
) -> None:
    # Given a socket running as many subscriptions as one socket may
    alice, bob = await server.graphql.sign_up(), await server.graphql.sign_up()
    async with socket(server.url, alice.token) as ws:
        for number in range(MAX_SUBSCRIPTIONS_PER_CONNECTION):
            await subscribe(ws, str(number), operation_source("MessageReceived"))
        channel = user_channel(user_id(alice))
        await server.subscribed(channel, MAX_SUBSCRIPTIONS_PER_CONNECTION)
        # When it asks for one more
        await subscribe(ws, "one-more", operation_source("MessageReceived"))
        # Then that one is refused with the protocol's error message for its id
        refused = await receive(ws)
        assert refused["type"] == "error" and refused["id"] == "one-more"
        assert refused["payload"][0]["message"] == "Subscription limit reached"
        # And the others go on: a message reaches each of them
        await server.send(bob, "to all", recipientIds=[alice.id])
        pushed = [await receive(ws) for _ in range(MAX_SUBSCRIPTIONS_PER_CONNECTION)]
        assert {message["id"] for message in pushed} == {
            str(number) for number in range(MAX_SUBSCRIPTIONS_PER_CONNECTION)
        }
        # And completing one makes room for another
        await ws.send(json.dumps({"id": "0", "type": "complete"}))
        await subscribe(ws, "one-more", "query { viewer { id } }")
        assert await next_data(ws) == {"viewer": {"id": alice.id}}


async def test_a_closed_socket_lets_go_of_its_bus_subscriptions(server: Server) -> None:
    alice = await server.graphql.sign_up()
    channel = user_channel(user_id(alice))
    async with socket(server.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        await server.subscribed(channel)
    services = server.app.state.services
    await until(lambda: services.deliveries.receiver_count(channel) == 0)
    await until(lambda: services.bus.subscriber_count(channel) == 0)


async def test_each_operation_on_a_socket_reads_afresh(server: Server) -> None:
    # Given a socket that read a user's follower count
    alice, bob = await server.graphql.sign_up(), await server.graphql.sign_up()
    query = "query ($u: String!) { user(username: $u) { followerCount } }"
    async with socket(server.url, alice.token) as ws:
        await subscribe(ws, "1", query, {"u": bob.username})
        assert await next_data(ws) == {"user": {"followerCount": 0}}
        await receive(ws)  # complete
        # When someone follows that user
        await server.run("FollowUser", alice, userId=bob.id)
        # Then the next operation on the socket sees it (loaders are per operation)
        await subscribe(ws, "2", query, {"u": bob.username})
        assert await next_data(ws) == {"user": {"followerCount": 1}}


# ------------------------------------------------------------------- keep-alive


async def test_a_client_ping_gets_a_pong_and_an_idle_subscription_keeps_delivering(
    server: Server,
) -> None:
    alice, bob = await server.graphql.sign_up(), await server.graphql.sign_up()
    async with socket(server.url, alice.token) as ws:
        await subscribe(ws, "1", operation_source("MessageReceived"))
        await server.subscribed(user_channel(user_id(alice)))
        # graphql-ws clients ping on their own schedule; the server answers each
        await ws.send(json.dumps({"type": "ping"}))
        assert await receive(ws) == {"type": "pong"}
        await asyncio.sleep(2)  # idle
        sent = await server.send(bob, "still there?", recipientIds=[alice.id])
        assert (await next_data(ws))["messageReceived"]["id"] == sent["id"]


# ------------------------------------------------------------- the session's end


async def test_log_out_closes_the_sessions_sockets_with_4403_within_a_second(
    server: Server,
) -> None:
    # Given two sockets opened with one token, and one with another of the same user's
    alice = await server.graphql.sign_up()
    other_login = await server.graphql.data(
        operation_source("LogIn"),
        {"login": alice.email, "password": "correct horse battery staple"},
    )
    other_token = other_login["logIn"]["token"]
    first = await open_socket(server.url, alice.token)
    second = await open_socket(server.url, alice.token)
    async with socket(server.url, other_token) as untouched:
        await subscribe(first, "1", operation_source("MessageReceived"))
        await server.subscribed(user_channel(user_id(alice)))
        # When that token logs out over HTTP
        assert (await server.run("LogOut", alice)) == {"ok": True}
        # Then both its sockets close, Forbidden, within the bound; the other stays open
        codes = await asyncio.gather(
            close_code(first, SESSION_END_BOUND_SECONDS),
            close_code(second, SESSION_END_BOUND_SECONDS),
        )
        assert list(codes) == [FORBIDDEN, FORBIDDEN]
        await subscribe(untouched, "1", "query { viewer { id } }")
        assert await next_data(untouched) == {"viewer": {"id": alice.id}}
    # And the closed sockets' subscriptions are gone from the bus
    services = server.app.state.services
    await until(lambda: services.bus.subscriber_count(user_channel(user_id(alice))) == 0)


async def test_an_expiring_session_closes_its_sockets_at_expiry(server: Server) -> None:
    # Given a socket opened with a session that lives 1.5 seconds
    services = server.app.state.services
    user = await insert_user(services)
    now = services.clock()
    token = await services.stores.sessions.create(user.id, now=now, expires_at=now + SHORT_SESSION)
    ws = await open_socket(server.url, token)
    await subscribe(ws, "1", operation_source("MessageReceived"))
    # Then it is closed, Forbidden, within a second of the expiry, without any operation
    left = (now + SHORT_SESSION - services.clock()).total_seconds()
    assert await close_code(ws, left + SESSION_END_BOUND_SECONDS) == FORBIDDEN


# ---------------------------------------------------------------- slow subscribers


async def test_a_subscriber_too_slow_for_its_queue_closes_its_socket_with_4013(
    runtime: Runtime,
) -> None:
    # Given a subscription on a bus whose queues hold two events, never read meanwhile
    services = runtime.services
    viewer, author = await insert_user(services), await insert_user(services)
    fans = [await insert_user(services) for _ in range(4)]
    closed: list[int] = []

    async def close_socket(code: int, reason: str) -> None:
        closed.append(code)

    async with open_event_bus(None, subscriber_max_events=2) as bus:
        small = dataclasses.replace(services, bus=bus)
        context = Context.for_viewer(small, viewer)
        context.close_socket = close_socket
        the_post = await _insert_post(small, author.id)
        stream = cast(
            "Any",
            await build_schema(mask_errors=False).subscribe(
                operation_source("PostLiked"),
                variable_values={"postId": to_global_id("Post", the_post)},
                context_value=context,
            ),
        )
        first = asyncio.ensure_future(anext(stream))
        await until(lambda: small.deliveries.receiver_count(post_channel(the_post)) == 1)
        await bus.publish(PostLiked(post_id=the_post, actor_id=author.id))
        assert (await asyncio.wait_for(first, WAIT_SECONDS)).errors is None
        # When more events arrive than its queue holds before it reads the next one
        for fan in fans:
            await bus.publish(PostLiked(post_id=the_post, actor_id=fan.id))
        # Then it is delivered nothing more: its socket is closed with 4013 and it ends
        await until(lambda: small.deliveries.receiver_count(post_channel(the_post)) == 0)
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(anext(stream), WAIT_SECONDS)
        assert closed == [SUBSCRIBER_TOO_SLOW_CLOSE_CODE]


async def _insert_post(services: Services, author_id: int) -> int:
    return (await insert_post(services, author_id)).id
