"""Direct messages over HTTP: threads, gapless seqs, retries, blocks and bad input."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from resolvers.ids import MAX_RETRY_KEY_LENGTH, to_global_id
from resolvers.message import MAX_MESSAGE_LENGTH, MAX_RECIPIENTS
from tests.client import Account, GraphQLClient

SEND = """mutation ($thread: ID, $to: [ID!], $text: String!, $client: String!) {
  sendMessage(input: {threadId: $thread, recipientIds: $to, text: $text, clientId: $client}) {
    message { id seq text thread { id } } errors { code field } } }"""
MESSAGES = """query ($id: ID!, $after: Int, $before: Int, $first: Int) { node(id: $id) {
  ... on Thread { lastSeq messages(afterSeq: $after, beforeSeq: $before, first: $first) {
    edges { node { seq text } } pageInfo { hasNextPage hasPreviousPage } } } } }"""
INBOX = "{ threads { edges { node { id unreadCount lastMessage { text } } } } }"
MARK_READ = """mutation ($id: ID!, $seq: Int!) { markThreadRead(threadId: $id, seq: $seq) {
  thread { unreadCount } errors { code field } } }"""
BLOCK = "mutation ($id: ID!) { blockUser(userId: $id) { ok } }"
CONCURRENT_SENDS = 200  # the figure for one thread
SENDERS = 4
RETRIES = 20


async def send(
    graphql: GraphQLClient,
    sender: Account,
    text: str = "hello",
    *,
    thread: str | None = None,
    to: list[str] | None = None,
    client_id: str | None = None,
) -> dict[str, Any]:
    variables = {
        "thread": thread,
        "to": to,
        "text": text,
        "client": client_id or uuid.uuid4().hex,
    }
    payload: dict[str, Any] = (await graphql.data(SEND, variables, token=sender.token))[
        "sendMessage"
    ]
    return payload


async def sent(graphql: GraphQLClient, sender: Account, **target: Any) -> dict[str, Any]:
    payload = await send(graphql, sender, **target)
    assert payload["errors"] == [], payload["errors"]
    message: dict[str, Any] = payload["message"]
    return message


async def all_messages(graphql: GraphQLClient, reader: Account, thread: str) -> list[Any]:
    """Every message of the thread, read page by page with `afterSeq` as a client catches up."""
    found: list[Any] = []
    while True:
        variables = {"id": thread, "after": found[-1]["seq"] if found else 0, "first": 100}
        node = (await graphql.data(MESSAGES, variables, token=reader.token))["node"]
        connection = node["messages"]
        found += [edge["node"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return found


async def inbox(graphql: GraphQLClient, reader: Account) -> list[Any]:
    data = await graphql.data(INBOX, token=reader.token)
    return [edge["node"] for edge in data["threads"]["edges"]]


def error(payload: dict[str, Any]) -> tuple[str, str]:
    assert payload["message"] is None
    [only] = payload["errors"]
    return only["code"], only["field"]


async def test_concurrent_sends_to_one_thread_get_consecutive_seqs_without_gap(
    graphql: GraphQLClient,
) -> None:
    people = [await graphql.sign_up() for _ in range(SENDERS)]
    opening = await sent(graphql, people[0], to=[person.id for person in people[1:]])
    thread = opening["thread"]["id"]

    await asyncio.gather(
        *(
            sent(graphql, people[n % SENDERS], text=f"m{n}", thread=thread)
            for n in range(CONCURRENT_SENDS)
        )
    )

    messages = await all_messages(graphql, people[1], thread)
    assert [message["seq"] for message in messages] == list(range(1, CONCURRENT_SENDS + 2))
    assert sorted(message["text"] for message in messages[1:]) == sorted(
        f"m{n}" for n in range(CONCURRENT_SENDS)
    )


async def test_concurrent_retries_of_one_send_store_it_once(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    thread = (await sent(graphql, alice, to=[bob.id]))["thread"]["id"]
    client_id = uuid.uuid4().hex

    answers = await asyncio.gather(
        *(sent(graphql, alice, thread=thread, client_id=client_id) for _ in range(RETRIES))
    )

    after = await sent(graphql, bob, thread=thread)

    assert len({answer["id"] for answer in answers}) == 1
    # The retries took no seq: the next message follows the first without a gap.
    assert after["seq"] == 3
    assert [message["seq"] for message in await all_messages(graphql, bob, thread)] == [1, 2, 3]


async def test_a_retried_send_returns_the_first_message(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    first = await sent(graphql, alice, text="once", to=[bob.id], client_id="retry-1")

    retry = await sent(graphql, alice, text="once", to=[bob.id], client_id="retry-1")

    assert retry == first
    assert len(await all_messages(graphql, bob, first["thread"]["id"])) == 1


async def test_first_messages_sent_at_once_to_the_same_people_share_one_thread(
    graphql: GraphQLClient,
) -> None:
    alice, bob, carol = [await graphql.sign_up() for _ in range(3)]

    messages = await asyncio.gather(
        *(sent(graphql, alice, to=[bob.id, carol.id]) for _ in range(5)),
        *(sent(graphql, bob, to=[carol.id, alice.id]) for _ in range(5)),
    )

    assert len({message["thread"]["id"] for message in messages}) == 1
    assert sorted(message["seq"] for message in messages) == list(range(1, 11))


async def test_history_pages_backwards_from_the_end(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    thread = ""
    for n in range(5):
        thread = (await sent(graphql, alice, text=f"m{n}", to=[bob.id]))["thread"]["id"]
    variables = {"id": thread, "before": 6, "first": 2}

    latest = (await graphql.data(MESSAGES, variables, token=bob.token))["node"]["messages"]
    older = (await graphql.data(MESSAGES, variables | {"before": 4}, token=bob.token))["node"][
        "messages"
    ]
    oldest = (await graphql.data(MESSAGES, variables | {"before": 2}, token=bob.token))["node"][
        "messages"
    ]

    assert [edge["node"]["seq"] for edge in latest["edges"]] == [4, 5]
    assert [edge["node"]["seq"] for edge in older["edges"]] == [2, 3]
    assert [edge["node"]["seq"] for edge in oldest["edges"]] == [1]
    assert latest["pageInfo"]["hasPreviousPage"] and older["pageInfo"]["hasPreviousPage"]
    assert not oldest["pageInfo"]["hasPreviousPage"]


async def test_the_inbox_counts_what_others_sent_after_the_viewer_read(
    graphql: GraphQLClient,
) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    thread = (await sent(graphql, alice, to=[bob.id]))["thread"]["id"]
    await sent(graphql, alice, thread=thread)
    await sent(graphql, bob, text="answer", thread=thread)
    await sent(graphql, alice, text="last", thread=thread)

    [seen_by_bob] = await inbox(graphql, bob)
    [seen_by_alice] = await inbox(graphql, alice)

    # Answering read what came before; one's own messages are never unread.
    assert (seen_by_bob["unreadCount"], seen_by_bob["lastMessage"]["text"]) == (1, "last")
    assert seen_by_alice["unreadCount"] == 0


async def test_marking_read_past_the_last_message_leaves_later_ones_unread(
    graphql: GraphQLClient,
) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    thread = (await sent(graphql, alice, to=[bob.id]))["thread"]["id"]
    await graphql.data(MARK_READ, {"id": thread, "seq": 1_000}, token=bob.token)

    await sent(graphql, alice, thread=thread)

    [seen] = await inbox(graphql, bob)
    assert seen["unreadCount"] == 1


async def test_someone_outside_the_thread_cannot_send_to_it(graphql: GraphQLClient) -> None:
    alice, bob, outsider = [await graphql.sign_up() for _ in range(3)]
    thread = (await sent(graphql, alice, to=[bob.id]))["thread"]["id"]

    payload = await send(graphql, outsider, thread=thread)

    assert error(payload) == ("NOT_FOUND", "threadId")
    assert len(await all_messages(graphql, bob, thread)) == 1


async def test_someone_outside_the_thread_cannot_mark_it_read(graphql: GraphQLClient) -> None:
    alice, bob, outsider = [await graphql.sign_up() for _ in range(3)]
    thread = (await sent(graphql, alice, to=[bob.id]))["thread"]["id"]

    payload = (await graphql.data(MARK_READ, {"id": thread, "seq": 1}, token=outsider.token))[
        "markThreadRead"
    ]

    assert payload["errors"] == [{"code": "NOT_FOUND", "field": "threadId"}]


async def test_a_malformed_or_unknown_thread_id_is_refused_naming_the_field(
    graphql: GraphQLClient,
) -> None:
    alice = await graphql.sign_up()

    malformed = await send(graphql, alice, thread="not-an-id")
    of_a_user = await send(graphql, alice, thread=alice.id)
    unknown = await send(graphql, alice, thread=to_global_id("Thread", 12345))

    assert error(malformed) == ("INVALID", "threadId")
    assert error(of_a_user) == ("INVALID", "threadId")
    assert error(unknown) == ("NOT_FOUND", "threadId")
    assert await inbox(graphql, alice) == []


async def test_neither_or_both_of_thread_and_recipients_is_invalid(
    graphql: GraphQLClient,
) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    thread = (await sent(graphql, alice, to=[bob.id]))["thread"]["id"]

    neither = await send(graphql, alice)
    both = await send(graphql, alice, thread=thread, to=[bob.id])

    assert error(neither) == error(both) == ("INVALID", "threadId")


async def test_users_who_blocked_each_other_cannot_message_either_way(
    graphql: GraphQLClient,
) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    thread = (await sent(graphql, alice, to=[bob.id]))["thread"]["id"]
    await graphql.data(BLOCK, {"id": alice.id}, token=bob.token)

    by_blocked = await send(graphql, alice, thread=thread)
    by_blocker = await send(graphql, bob, thread=thread)
    by_name = await send(graphql, alice, to=[bob.id])

    assert error(by_blocked) == error(by_blocker) == ("FORBIDDEN", "threadId")
    assert error(by_name) == ("NOT_FOUND", "recipientIds")  # to alice, bob is gone
    assert len(await all_messages(graphql, bob, thread)) == 1


async def test_empty_and_over_long_texts_are_refused_and_write_nothing(
    graphql: GraphQLClient,
) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()

    empty = await send(graphql, alice, "  ", to=[bob.id])
    too_long = await send(graphql, alice, "x" * (MAX_MESSAGE_LENGTH + 1), to=[bob.id])
    longest = await send(graphql, alice, "x" * MAX_MESSAGE_LENGTH, to=[bob.id])

    assert error(empty) == error(too_long) == ("INVALID", "text")
    assert longest["errors"] == []
    assert [thread["lastMessage"]["text"] for thread in await inbox(graphql, bob)] == [
        "x" * MAX_MESSAGE_LENGTH
    ]


async def test_more_recipients_than_a_thread_holds_are_refused(graphql: GraphQLClient) -> None:
    alice = await graphql.sign_up()
    others = [to_global_id("User", 1_000 + n) for n in range(MAX_RECIPIENTS + 1)]

    payload = await send(graphql, alice, to=others)

    assert error(payload) == ("INVALID", "recipientIds")


async def test_an_unknown_recipient_is_refused_and_no_thread_is_made(
    graphql: GraphQLClient,
) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()

    payload = await send(graphql, alice, to=[bob.id, to_global_id("User", 4242)])

    assert error(payload) == ("NOT_FOUND", "recipientIds")
    assert await inbox(graphql, alice) == await inbox(graphql, bob) == []


async def test_writing_only_to_oneself_is_refused(graphql: GraphQLClient) -> None:
    alice = await graphql.sign_up()

    payload = await send(graphql, alice, to=[alice.id])

    assert error(payload) == ("INVALID", "recipientIds")


async def test_an_over_long_client_id_is_refused_and_writes_nothing(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()

    refused = await send(graphql, alice, to=[bob.id], client_id="k" * (MAX_RETRY_KEY_LENGTH + 1))
    longest = await send(graphql, alice, "kept", to=[bob.id], client_id="k" * MAX_RETRY_KEY_LENGTH)

    assert error(refused) == ("INVALID", "clientId")
    assert longest["errors"] == []
    assert [thread["lastMessage"]["text"] for thread in await inbox(graphql, bob)] == ["kept"]


# ------------------------------------------------------------------ leaving a group

LEAVE = """mutation ($id: ID!) { leaveThread(threadId: $id) { ok errors { code field } } }"""
PARTICIPANTS = """query ($id: ID!) { node(id: $id) { ... on Thread {
  participants { id } } } }"""


async def leave(graphql: GraphQLClient, member: Account, thread: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql.data(LEAVE, {"id": thread}, token=member.token))[
        "leaveThread"
    ]
    return payload


async def test_a_member_who_left_a_group_can_neither_read_nor_send_to_it(
    graphql: GraphQLClient,
) -> None:
    # Given a group of three, and its third member leaving it
    alice, bob, carol = [await graphql.sign_up() for _ in range(3)]
    thread = (await sent(graphql, alice, to=[bob.id, carol.id]))["thread"]["id"]
    assert await leave(graphql, carol, thread) == {"ok": True, "errors": []}
    # When she sends to it, and reads it
    refused = await send(graphql, carol, "still here?", thread=thread)
    node = (await graphql.data(PARTICIPANTS, {"id": thread}, token=carol.token))["node"]
    # Then her message is refused naming the thread, and written nowhere
    assert error(refused) == ("NOT_FOUND", "threadId")
    assert [message["text"] for message in await all_messages(graphql, bob, thread)] == ["hello"]
    # And the thread is gone for her, from its id and from her inbox
    assert node is None
    assert await inbox(graphql, carol) == []
    # And the other two keep it, without her
    kept = (await graphql.data(PARTICIPANTS, {"id": thread}, token=alice.token))["node"]
    assert {person["id"] for person in kept["participants"]} == {alice.id, bob.id}
    assert (await sent(graphql, bob, thread=thread))["seq"] == 2


async def test_a_thread_of_two_cannot_be_left(graphql: GraphQLClient) -> None:
    # Given a thread of two
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    thread = (await sent(graphql, alice, to=[bob.id]))["thread"]["id"]
    # When one of them tries to leave it
    payload = await leave(graphql, bob, thread)
    # Then it is refused naming the thread, and both still have it
    assert payload == {"ok": False, "errors": [{"code": "INVALID", "field": "threadId"}]}
    assert (await sent(graphql, bob, thread=thread))["seq"] == 2


async def test_someone_outside_a_group_cannot_leave_it(graphql: GraphQLClient) -> None:
    alice, bob, carol, outsider = [await graphql.sign_up() for _ in range(4)]
    thread = (await sent(graphql, alice, to=[bob.id, carol.id]))["thread"]["id"]

    payload = await leave(graphql, outsider, thread)

    assert payload == {"ok": False, "errors": [{"code": "NOT_FOUND", "field": "threadId"}]}


async def test_naming_a_left_groups_people_again_starts_a_new_thread_of_all_of_them(
    graphql: GraphQLClient,
) -> None:
    # Given a group of three that one member left
    alice, bob, carol = [await graphql.sign_up() for _ in range(3)]
    group = (await sent(graphql, alice, to=[bob.id, carol.id]))["thread"]["id"]
    await leave(graphql, carol, group)
    # When one of them writes to the same three people by name, and to the two left
    again = (await sent(graphql, alice, text="all of us", to=[bob.id, carol.id]))["thread"]["id"]
    direct = (await sent(graphql, alice, text="just us", to=[bob.id]))["thread"]["id"]
    # Then each is a new thread of exactly those people, which the one who left reads too
    assert len({group, again, direct}) == 3
    assert [message["text"] for message in await all_messages(graphql, carol, again)] == [
        "all of us"
    ]
