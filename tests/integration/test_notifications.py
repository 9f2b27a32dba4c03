"""Notifications: each kind written by the worker, grouped likes, and what no one is told.

Through the API, against the test server (real Redis, its in-server worker doing the jobs);
the tests of the job itself (redelivery) and of the unread count's cap drive the job and
the resolvers directly.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.client import Account, GraphQLClient
from tests.media import jpeg
from tests.notifications import (
    ADD_COMMENT,
    BLOCK,
    FOLLOW,
    LIKE,
    MARK_READ,
    RESPOND,
    SEND,
    UNFOLLOW,
    UNLIKE,
    Node,
    notification_nodes,
    notification_page,
    of_kind,
    once_jobs_so_far_are_done,
    only,
    until_notified,
)

DELETE_POST = "mutation ($id: ID!) { deletePost(postId: $id) { ok errors { code } } }"
UNBLOCK = "mutation ($id: ID!) { unblockUser(userId: $id) { ok errors { code } } }"


async def new_post(graphql: GraphQLClient, author: Account, caption: str = "") -> str:
    payload = await graphql.create_post(author, [jpeg(64, 64)], caption)
    assert payload["errors"] == [], payload["errors"]
    post_id: str = payload["post"]["id"]
    return post_id


async def act(graphql: GraphQLClient, document: str, actor: Account, **variables: Any) -> Any:
    data = await graphql.data(document, variables, token=actor.token)
    payload = next(iter(data.values()))
    assert payload["errors"] == [], payload["errors"]
    return payload


async def add_comment(graphql: GraphQLClient, author: Account, post_id: str, text: str) -> str:
    payload = await act(graphql, ADD_COMMENT, author, post=post_id, text=text)
    comment_id: str = payload["comment"]["id"]
    return comment_id


def usernames(node: Node) -> list[str]:
    return [actor["username"] for actor in node["actors"]]


# ---------------------------------------------------------------- each kind is written


async def test_a_like_notifies_the_post_author(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)

    await act(graphql, LIKE, fan, id=post_id)

    like = only("LIKE", await until_notified(graphql, author, of_kind("LIKE", post=post_id)))
    assert (usernames(like), like["actorCount"], like["read"]) == ([fan.username], 1, False)
    assert like["comment"] is None


async def test_likes_of_one_post_are_one_notification_with_the_latest_actors_and_exact_count(
    graphql: GraphQLClient,
) -> None:
    author = await graphql.sign_up()
    fans = [await graphql.sign_up() for _ in range(5)]
    post_id = await new_post(graphql, author)

    for fan in fans:
        await act(graphql, LIKE, fan, id=post_id)

    nodes = await until_notified(
        graphql, author, lambda nodes: any(n["actorCount"] == 5 for n in nodes)
    )
    like = only("LIKE", nodes)
    assert usernames(like) == [fan.username for fan in reversed(fans)][:3]  # latest first


async def test_an_unlike_takes_its_actor_out_and_the_last_one_removes_the_notification(
    graphql: GraphQLClient,
) -> None:
    author, first, second = [await graphql.sign_up() for _ in range(3)]
    post_id = await new_post(graphql, author)
    for fan in (first, second):
        await act(graphql, LIKE, fan, id=post_id)
    await until_notified(graphql, author, lambda nodes: any(n["actorCount"] == 2 for n in nodes))

    await act(graphql, UNLIKE, second, id=post_id)

    nodes = await until_notified(
        graphql, author, lambda nodes: any(n["actorCount"] == 1 for n in nodes)
    )
    assert usernames(only("LIKE", nodes)) == [first.username]

    await act(graphql, UNLIKE, first, id=post_id)

    assert await once_jobs_so_far_are_done(graphql, author) == []


async def test_a_comment_notifies_the_post_author_with_the_comment(graphql: GraphQLClient) -> None:
    author, commenter = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)

    comment_id = await add_comment(graphql, commenter, post_id, "lovely light")

    nodes = await until_notified(graphql, author, of_kind("COMMENT", comment=comment_id))
    comment = only("COMMENT", nodes)
    assert (comment["comment"]["text"], comment["post"]["id"]) == ("lovely light", post_id)
    assert usernames(comment) == [commenter.username]


async def test_a_mention_in_a_comment_notifies_the_one_mentioned(graphql: GraphQLClient) -> None:
    author, commenter, friend = [await graphql.sign_up() for _ in range(3)]
    post_id = await new_post(graphql, author)

    comment_id = await add_comment(graphql, commenter, post_id, f"look @{friend.username}!")

    nodes = await until_notified(graphql, friend, of_kind("MENTION", comment=comment_id))
    assert only("MENTION", nodes)["post"]["id"] == post_id


async def test_a_mention_in_a_caption_notifies_the_one_mentioned(graphql: GraphQLClient) -> None:
    author, friend = await graphql.sign_up(), await graphql.sign_up()

    post_id = await new_post(graphql, author, f"with @{friend.username}")

    nodes = await until_notified(graphql, friend, of_kind("MENTION", post=post_id))
    mention = only("MENTION", nodes)
    assert (usernames(mention), mention["comment"]) == ([author.username], None)


async def test_a_follow_notifies_the_followed(graphql: GraphQLClient) -> None:
    star, fan = await graphql.sign_up(), await graphql.sign_up()

    await act(graphql, FOLLOW, fan, id=star.id)

    follow = only("FOLLOW", await until_notified(graphql, star, of_kind("FOLLOW")))
    assert (usernames(follow), follow["post"]) == ([fan.username], None)


async def test_a_request_to_a_private_account_is_told_and_becomes_a_follow_once_approved(
    graphql: GraphQLClient,
) -> None:
    owner, fan = await graphql.sign_up(private=True), await graphql.sign_up()
    await act(graphql, FOLLOW, fan, id=owner.id)
    await until_notified(graphql, owner, of_kind("FOLLOW_REQUEST"))

    await act(graphql, RESPOND, owner, id=fan.id, approve=True)

    nodes = await until_notified(graphql, owner, of_kind("FOLLOW"))
    assert [node["kind"] for node in nodes] == ["FOLLOW"]  # the request became the follow


async def test_a_withdrawn_request_is_taken_back(graphql: GraphQLClient) -> None:
    owner, fan = await graphql.sign_up(private=True), await graphql.sign_up()
    await act(graphql, FOLLOW, fan, id=owner.id)
    await until_notified(graphql, owner, of_kind("FOLLOW_REQUEST"))

    await act(graphql, UNFOLLOW, fan, id=owner.id)

    assert await once_jobs_so_far_are_done(graphql, owner) == []


async def test_a_request_a_block_ended_is_not_told_again_after_the_unblock(
    graphql: GraphQLClient,
) -> None:
    owner, fan = await graphql.sign_up(private=True), await graphql.sign_up()
    await act(graphql, FOLLOW, fan, id=owner.id)
    await until_notified(graphql, owner, of_kind("FOLLOW_REQUEST"))

    await act(graphql, BLOCK, owner, id=fan.id)  # which ends the request
    await act(graphql, UNBLOCK, owner, id=fan.id)

    assert await once_jobs_so_far_are_done(graphql, owner) == []


async def test_a_message_notifies_every_other_participant(graphql: GraphQLClient) -> None:
    sender, bob, carol = [await graphql.sign_up() for _ in range(3)]

    payload = await act(
        graphql, SEND, sender, to=[bob.id, carol.id], text="dinner?", client=uuid.uuid4().hex
    )

    for receiver in (bob, carol):
        nodes = await until_notified(graphql, receiver, of_kind("MESSAGE"))
        message = only("MESSAGE", nodes)
        assert (message["message"]["id"], message["message"]["text"]) == (
            payload["message"]["id"],
            "dinner?",
        )
        assert usernames(message) == [sender.username]
    assert await once_jobs_so_far_are_done(graphql, sender) == []


# ---------------------------------------------------------------- what no one is told


async def test_no_one_is_notified_of_what_they_did_themselves(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    post_id = await new_post(graphql, author, f"me: @{author.username}")

    await act(graphql, LIKE, author, id=post_id)
    await add_comment(graphql, author, post_id, f"and me again @{author.username}")

    assert await once_jobs_so_far_are_done(graphql, author) == []


async def test_a_mention_by_an_account_the_mentioned_blocked_is_not_told(
    graphql: GraphQLClient,
) -> None:
    author, blocked, friend = [await graphql.sign_up() for _ in range(3)]
    post_id = await new_post(graphql, author)
    await act(graphql, BLOCK, friend, id=blocked.id)

    await add_comment(graphql, blocked, post_id, f"hey @{friend.username}")

    assert await once_jobs_so_far_are_done(graphql, friend) == []


async def test_a_like_is_hidden_once_the_author_blocks_the_liker(graphql: GraphQLClient) -> None:
    author, liker, other = [await graphql.sign_up() for _ in range(3)]
    post_id = await new_post(graphql, author)
    for fan in (other, liker):
        await act(graphql, LIKE, fan, id=post_id)
    await until_notified(graphql, author, lambda nodes: any(n["actorCount"] == 2 for n in nodes))

    await act(graphql, BLOCK, author, id=liker.id)

    like = only("LIKE", await notification_nodes(graphql, author))
    assert (usernames(like), like["actorCount"]) == ([other.username], 1)


async def test_a_notification_is_hidden_once_its_actor_blocks_the_receiver(
    graphql: GraphQLClient,
) -> None:
    star, fan = await graphql.sign_up(), await graphql.sign_up()
    await act(graphql, FOLLOW, fan, id=star.id)
    await until_notified(graphql, star, of_kind("FOLLOW"))

    await act(graphql, BLOCK, fan, id=star.id)

    page = await notification_page(graphql, star)
    assert (page["notifications"]["edges"], page["unreadNotificationCount"]) == ([], 0)


async def test_a_mention_on_a_private_post_is_not_told_to_one_who_may_not_see_it(
    graphql: GraphQLClient,
) -> None:
    owner = await graphql.sign_up(private=True)
    insider, outsider = await graphql.sign_up(), await graphql.sign_up()
    await act(graphql, FOLLOW, insider, id=owner.id)
    await act(graphql, RESPOND, owner, id=insider.id, approve=True)
    post_id = await new_post(graphql, owner)

    await add_comment(graphql, insider, post_id, f"@{outsider.username} you should see this")

    assert await once_jobs_so_far_are_done(graphql, outsider) == []


async def test_a_mention_is_hidden_once_the_mentioned_no_longer_may_see_the_post(
    graphql: GraphQLClient,
) -> None:
    owner, reader = await graphql.sign_up(private=True), await graphql.sign_up()
    await act(graphql, FOLLOW, reader, id=owner.id)
    await act(graphql, RESPOND, owner, id=reader.id, approve=True)
    post_id = await new_post(graphql, owner, f"hi @{reader.username}")
    await until_notified(graphql, reader, of_kind("MENTION", post=post_id))

    await act(graphql, UNFOLLOW, reader, id=owner.id)

    assert await notification_nodes(graphql, reader) == []


async def test_a_like_of_a_deleted_post_is_no_longer_shown(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    await act(graphql, LIKE, fan, id=post_id)
    await until_notified(graphql, author, of_kind("LIKE"))

    await graphql.data(DELETE_POST, {"id": post_id}, token=author.token)

    assert await notification_nodes(graphql, author) == []


# ---------------------------------------------------------------- read state and paging


async def test_marking_read_reads_everything_so_far_and_a_new_like_is_unread_again(
    graphql: GraphQLClient,
) -> None:
    author, fan, later = [await graphql.sign_up() for _ in range(3)]
    post_id = await new_post(graphql, author)
    await act(graphql, LIKE, fan, id=post_id)
    await act(graphql, FOLLOW, fan, id=author.id)
    await until_notified(graphql, author, lambda nodes: len(nodes) == 2)
    assert (await notification_page(graphql, author))["unreadNotificationCount"] == 2

    assert await act(graphql, MARK_READ, author) == {"ok": True, "errors": []}

    page = await notification_page(graphql, author)
    assert page["unreadNotificationCount"] == 0
    assert [edge["node"]["read"] for edge in page["notifications"]["edges"]] == [True, True]

    await act(graphql, LIKE, later, id=post_id)

    nodes = await until_notified(
        graphql, author, lambda nodes: any(n["actorCount"] == 2 for n in nodes)
    )
    assert [(node["kind"], node["read"]) for node in nodes] == [("LIKE", False), ("FOLLOW", True)]
    assert (await notification_page(graphql, author))["unreadNotificationCount"] == 1


async def test_notifications_page_latest_first_by_cursor(graphql: GraphQLClient) -> None:
    star = await graphql.sign_up()
    fans = [await graphql.sign_up() for _ in range(3)]
    for fan in fans:
        await act(graphql, FOLLOW, fan, id=star.id)
    await until_notified(graphql, star, lambda nodes: len(nodes) == 3)

    first = (await notification_page(graphql, star, first=2))["notifications"]
    rest = (await notification_page(graphql, star, first=2, after=first["pageInfo"]["endCursor"]))[
        "notifications"
    ]

    pages = [[usernames(edge["node"])[0] for edge in page["edges"]] for page in (first, rest)]
    assert pages == [[fans[2].username, fans[1].username], [fans[0].username]]
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)


async def test_a_bad_cursor_or_page_size_is_bad_user_input(graphql: GraphQLClient) -> None:
    viewer = await graphql.sign_up()

    for variables in ({"after": "not-a-cursor"}, {"first": 0}, {"first": -1}):
        body = await graphql.execute(
            "query ($first: Int, $after: String) { notifications(first: $first, after: $after) "
            "{ edges { cursor } } }",
            variables,
            token=viewer.token,
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", variables


async def test_notifications_need_a_signed_in_viewer(graphql: GraphQLClient) -> None:
    for document in ("{ notifications { edges { cursor } } }", "{ unreadNotificationCount }"):
        body = await graphql.execute(document)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", document
    body = await graphql.execute(MARK_READ)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_notification_is_a_node_its_receiver_alone_may_read(graphql: GraphQLClient) -> None:
    star, fan = await graphql.sign_up(), await graphql.sign_up()
    await act(graphql, FOLLOW, fan, id=star.id)
    [follow] = await until_notified(graphql, star, of_kind("FOLLOW"))
    query = "query ($id: ID!) { node(id: $id) { id ... on Notification { kind } } }"

    mine = await graphql.data(query, {"id": follow["id"]}, token=star.token)
    theirs = await graphql.data(query, {"id": follow["id"]}, token=fan.token)

    assert (mine["node"], theirs["node"]) == ({"id": follow["id"], "kind": "FOLLOW"}, None)
