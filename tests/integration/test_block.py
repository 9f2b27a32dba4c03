"""Blocking hides two accounts from each other, both ways, and ends follows between them."""

from __future__ import annotations

from typing import Any

from app.services import Runtime
from tests.client import Account, GraphQLClient
from tests.feeds import stored_feed
from tests.media import jpeg

BLOCK = "mutation ($id: ID!) { blockUser(userId: $id) { ok errors { code field } } }"
UNBLOCK = "mutation ($id: ID!) { unblockUser(userId: $id) { ok errors { code field } } }"
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state errors { code field } } }"
PROFILE = "query ($u: String!) { user(username: $u) { id followerCount followingCount } }"
NODE = "query ($id: ID!) { node(id: $id) { id } }"
FEED = "{ feed { edges { node { id } } } }"
SEARCH = "query ($q: String!) { searchUsers(query: $q) { edges { node { username } } } }"


async def profile(graphql: GraphQLClient, user: Account, viewer: Account) -> Any:
    data = await graphql.data(PROFILE, {"u": user.username}, token=viewer.token)
    return data["user"]


async def test_blocking_ends_follows_in_both_directions(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    await graphql.data(FOLLOW, {"id": bob.id}, token=alice.token)
    await graphql.data(FOLLOW, {"id": alice.id}, token=bob.token)

    payload = (await graphql.data(BLOCK, {"id": bob.id}, token=alice.token))["blockUser"]

    assert payload == {"ok": True, "errors": []}
    me = await profile(graphql, alice, alice)
    assert me is not None
    assert (me["followerCount"], me["followingCount"]) == (0, 0)


async def test_blocking_takes_each_others_posts_out_of_the_stored_feeds(
    graphql: GraphQLClient, runtime: Runtime
) -> None:
    """Not only hidden at read time: the posts leave both feeds in Redis."""
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    from_alice = (await graphql.create_post(alice, [jpeg(64, 64)]))["post"]["id"]
    from_bob = (await graphql.create_post(bob, [jpeg(64, 64)]))["post"]["id"]
    for reader, author in ((alice, bob), (bob, alice)):
        await graphql.data(FEED, token=reader.token)  # the feed exists in Redis
        await graphql.data(FOLLOW, {"id": author.id}, token=reader.token)
    assert from_bob in await stored_feed(runtime.services, alice)  # merged by the follows
    assert from_alice in await stored_feed(runtime.services, bob)

    await graphql.data(BLOCK, {"id": bob.id}, token=alice.token)

    assert from_bob not in await stored_feed(runtime.services, alice)
    assert from_alice not in await stored_feed(runtime.services, bob)


async def test_blocked_accounts_do_not_see_each_other(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()

    await graphql.data(BLOCK, {"id": bob.id}, token=alice.token)

    assert await profile(graphql, alice, viewer=bob) is None
    assert await profile(graphql, bob, viewer=alice) is None
    assert (await graphql.data(NODE, {"id": alice.id}, token=bob.token))["node"] is None
    assert (await graphql.data(NODE, {"id": bob.id}, token=alice.token))["node"] is None


async def test_blocked_accounts_cannot_follow_each_other(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    await graphql.data(BLOCK, {"id": bob.id}, token=alice.token)

    by_blocked = (await graphql.data(FOLLOW, {"id": alice.id}, token=bob.token))["followUser"]
    by_blocker = (await graphql.data(FOLLOW, {"id": bob.id}, token=alice.token))["followUser"]

    assert by_blocked["errors"] == [{"code": "NOT_FOUND", "field": "userId"}]
    assert by_blocker["errors"] == [{"code": "NOT_FOUND", "field": "userId"}]
    assert (await profile(graphql, alice, alice) or {})["followerCount"] == 0


async def test_blocked_accounts_are_left_out_of_search(graphql: GraphQLClient) -> None:
    alice = await graphql.sign_up("searchable")
    bob = await graphql.sign_up()
    await graphql.data(BLOCK, {"id": alice.id}, token=bob.token)

    found = await graphql.data(SEARCH, {"q": alice.username}, token=bob.token)

    assert found["searchUsers"]["edges"] == []


async def test_unblocking_restores_visibility_but_not_follows(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    await graphql.data(FOLLOW, {"id": alice.id}, token=bob.token)
    await graphql.data(BLOCK, {"id": bob.id}, token=alice.token)

    payload = (await graphql.data(UNBLOCK, {"id": bob.id}, token=alice.token))["unblockUser"]

    assert payload == {"ok": True, "errors": []}
    seen = await profile(graphql, alice, viewer=bob)
    assert seen is not None and seen["followerCount"] == 0


async def test_blocking_and_unblocking_twice_are_not_errors(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()

    results = [
        (await graphql.data(mutation, {"id": bob.id}, token=alice.token))[name]
        for mutation, name in [(BLOCK, "blockUser")] * 2 + [(UNBLOCK, "unblockUser")] * 2
    ]

    assert all(result == {"ok": True, "errors": []} for result in results)


async def test_blocking_oneself_is_refused(graphql: GraphQLClient) -> None:
    alice = await graphql.sign_up()

    payload = (await graphql.data(BLOCK, {"id": alice.id}, token=alice.token))["blockUser"]

    assert payload == {"ok": False, "errors": [{"code": "INVALID", "field": "userId"}]}


async def test_blocking_without_a_token_is_unauthenticated(graphql: GraphQLClient) -> None:
    bob = await graphql.sign_up()

    body = await graphql.execute(BLOCK, {"id": bob.id})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
