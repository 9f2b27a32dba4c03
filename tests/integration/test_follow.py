"""The follow graph: follows, private accounts' requests, counters and follower lists."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.services import Runtime
from resolvers.ids import to_global_id
from tests.client import Account, GraphQLClient
from tests.feeds import stored_feed
from tests.media import jpeg

FOLLOW = """
mutation ($id: ID!) { followUser(userId: $id) {
  state user { id followerCount viewerFollowState } errors { code field message } } }"""
UNFOLLOW = """
mutation ($id: ID!) { unfollowUser(userId: $id) {
  user { id followerCount viewerFollowState } errors { code field message } } }"""
RESPOND = """
mutation ($id: ID!, $approve: Boolean!) { respondToFollowRequest(userId: $id, approve: $approve) {
  user { id viewerFollowState } errors { code field message } } }"""
COUNTS = """
query ($u: String!) { user(username: $u) {
  followerCount followingCount viewerFollowState followsViewer } }"""
FOLLOWERS = """
query ($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on User {
  followers(first: $first, after: $after) {
    edges { cursor node { username } } pageInfo { hasNextPage endCursor } } } } }"""
FOLLOW_REQUESTS = "{ followRequests { edges { node { username } } } }"
FEED = "{ feed { edges { node { id } } } }"


async def follow(graphql: GraphQLClient, follower: Account, followee: Account) -> Any:
    return (await graphql.data(FOLLOW, {"id": followee.id}, token=follower.token))["followUser"]


async def counts(graphql: GraphQLClient, user: Account, viewer: Account | None = None) -> Any:
    token = None if viewer is None else viewer.token
    return (await graphql.data(COUNTS, {"u": user.username}, token=token))["user"]


async def follower_names(graphql: GraphQLClient, user: Account, viewer: Account) -> list[str]:
    data = await graphql.data(FOLLOWERS, {"id": user.id, "first": 100}, token=viewer.token)
    return [edge["node"]["username"] for edge in data["node"]["followers"]["edges"]]


async def test_following_a_public_account_takes_effect_at_once(graphql: GraphQLClient) -> None:
    fan, star = await graphql.sign_up(), await graphql.sign_up()

    payload = await follow(graphql, fan, star)

    assert payload["state"] == "FOLLOWING"
    assert payload["user"] == {"id": star.id, "followerCount": 1, "viewerFollowState": "FOLLOWING"}
    assert (await counts(graphql, fan))["followingCount"] == 1
    assert (await counts(graphql, fan, viewer=star))["followsViewer"] is True


async def test_following_twice_leaves_one_follow(graphql: GraphQLClient) -> None:
    fan, star = await graphql.sign_up(), await graphql.sign_up()
    await follow(graphql, fan, star)

    payload = await follow(graphql, fan, star)

    assert payload["state"] == "FOLLOWING"
    assert payload["user"]["followerCount"] == 1


async def test_following_a_private_account_creates_a_request(graphql: GraphQLClient) -> None:
    fan, owner = await graphql.sign_up(), await graphql.sign_up(private=True)

    payload = await follow(graphql, fan, owner)

    assert payload["state"] == "REQUESTED"
    assert payload["user"]["followerCount"] == 0
    requests = await graphql.data(FOLLOW_REQUESTS, token=owner.token)
    assert [e["node"]["username"] for e in requests["followRequests"]["edges"]] == [fan.username]


async def test_approving_a_request_makes_the_follow(graphql: GraphQLClient) -> None:
    fan, owner = await graphql.sign_up(), await graphql.sign_up(private=True)
    await follow(graphql, fan, owner)

    payload = (await graphql.data(RESPOND, {"id": fan.id, "approve": True}, token=owner.token))[
        "respondToFollowRequest"
    ]

    assert payload["errors"] == []
    assert await counts(graphql, owner, viewer=fan) == {
        "followerCount": 1,
        "followingCount": 0,
        "viewerFollowState": "FOLLOWING",
        "followsViewer": False,
    }
    assert (await graphql.data(FOLLOW_REQUESTS, token=owner.token))["followRequests"]["edges"] == []


async def test_declining_a_request_removes_it(graphql: GraphQLClient) -> None:
    fan, owner = await graphql.sign_up(), await graphql.sign_up(private=True)
    await follow(graphql, fan, owner)

    await graphql.data(RESPOND, {"id": fan.id, "approve": False}, token=owner.token)

    assert (await counts(graphql, owner, viewer=fan))["viewerFollowState"] == "NONE"
    assert (await graphql.data(FOLLOW_REQUESTS, token=owner.token))["followRequests"]["edges"] == []


@pytest.mark.parametrize("approve", [True, False])
async def test_responding_without_a_pending_request_is_not_found(
    graphql: GraphQLClient, approve: bool
) -> None:
    fan, owner = await graphql.sign_up(), await graphql.sign_up(private=True)

    payload = (await graphql.data(RESPOND, {"id": fan.id, "approve": approve}, token=owner.token))[
        "respondToFollowRequest"
    ]

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "userId")]


async def test_declining_does_not_remove_an_approved_follow(graphql: GraphQLClient) -> None:
    fan, owner = await graphql.sign_up(), await graphql.sign_up(private=True)
    await follow(graphql, fan, owner)
    await graphql.data(RESPOND, {"id": fan.id, "approve": True}, token=owner.token)

    await graphql.data(RESPOND, {"id": fan.id, "approve": False}, token=owner.token)

    assert (await counts(graphql, owner))["followerCount"] == 1


async def test_going_public_approves_every_pending_request(graphql: GraphQLClient) -> None:
    owner = await graphql.sign_up(private=True)
    fans = [await graphql.sign_up() for _ in range(3)]
    for fan in fans:
        await follow(graphql, fan, owner)

    await graphql.data(
        "mutation { updateProfile(input: {isPrivate: false}) { errors { field } } }",
        token=owner.token,
    )

    assert (await counts(graphql, owner))["followerCount"] == 3


async def test_unfollowing_restores_the_counts(graphql: GraphQLClient) -> None:
    fan, star = await graphql.sign_up(), await graphql.sign_up()
    await follow(graphql, fan, star)

    payload = (await graphql.data(UNFOLLOW, {"id": star.id}, token=fan.token))["unfollowUser"]

    assert payload["user"] == {"id": star.id, "followerCount": 0, "viewerFollowState": "NONE"}
    assert (await counts(graphql, fan))["followingCount"] == 0


async def test_unfollowing_takes_the_followees_posts_out_of_the_stored_feed(
    graphql: GraphQLClient, runtime: Runtime
) -> None:
    """Not only hidden at read time: the posts leave the follower's feed in Redis."""
    fan, star = await graphql.sign_up(), await graphql.sign_up()
    posted = (await graphql.create_post(star, [jpeg(64, 64)]))["post"]["id"]
    await graphql.data(FEED, token=fan.token)  # the fan's feed exists in Redis
    await follow(graphql, fan, star)
    assert posted in await stored_feed(runtime.services, fan)  # merged by the follow

    await graphql.data(UNFOLLOW, {"id": star.id}, token=fan.token)

    assert posted not in await stored_feed(runtime.services, fan)


async def test_unfollowing_someone_not_followed_is_not_an_error(graphql: GraphQLClient) -> None:
    fan, star = await graphql.sign_up(), await graphql.sign_up()

    payload = (await graphql.data(UNFOLLOW, {"id": star.id}, token=fan.token))["unfollowUser"]

    assert payload["errors"] == []
    assert payload["user"]["followerCount"] == 0


async def test_counts_stay_exact_under_concurrent_follows_and_unfollows(
    graphql: GraphQLClient,
) -> None:
    star = await graphql.sign_up()
    fans = [await graphql.sign_up() for _ in range(6)]

    await asyncio.gather(
        *(
            graphql.data(mutation, {"id": star.id}, token=fan.token)
            for fan in fans
            for mutation in (FOLLOW, FOLLOW, UNFOLLOW, FOLLOW)
        )
    )

    listed = await follower_names(graphql, star, viewer=star)
    assert (await counts(graphql, star))["followerCount"] == len(listed)
    for fan in fans:
        fan_counts = await counts(graphql, fan, viewer=star)
        assert fan_counts["followingCount"] == (1 if fan.username in listed else 0)


async def test_following_oneself_is_refused(graphql: GraphQLClient) -> None:
    me = await graphql.sign_up()

    payload = await follow(graphql, me, me)

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "userId")]
    assert (await counts(graphql, me))["followingCount"] == 0


@pytest.mark.parametrize(
    ("user_id", "code"),
    [
        ("not-an-id", "INVALID"),
        (to_global_id("Post", 1), "INVALID"),
        (to_global_id("User", 1), "NOT_FOUND"),
        ("VXNlcjotMQ==", "INVALID"),  # base64 of "User:-1"
    ],
)
async def test_following_a_bad_id_is_refused_naming_the_field(
    graphql: GraphQLClient, user_id: str, code: str
) -> None:
    fan = await graphql.sign_up()

    payload = (await graphql.data(FOLLOW, {"id": user_id}, token=fan.token))["followUser"]

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, "userId")]


async def test_following_without_a_token_is_unauthenticated(graphql: GraphQLClient) -> None:
    star = await graphql.sign_up()

    body = await graphql.execute(FOLLOW, {"id": star.id})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_page_of_followers_reads_past_accounts_the_viewer_may_not_see(
    graphql: GraphQLClient,
) -> None:
    """Given the newest follower of an account blocked the viewer, when the viewer asks for
    one follower, then the newest visible one comes."""
    star, older_fan, blocker, viewer = [await graphql.sign_up() for _ in range(4)]
    await follow(graphql, older_fan, star)
    await follow(graphql, blocker, star)
    await graphql.data(
        "mutation ($id: ID!) { blockUser(userId: $id) { ok } }",
        {"id": viewer.id},
        token=blocker.token,
    )

    data = await graphql.data(FOLLOWERS, {"id": star.id, "first": 1}, token=viewer.token)

    followers = data["node"]["followers"]
    assert [edge["node"]["username"] for edge in followers["edges"]] == [older_fan.username]
    assert followers["pageInfo"]["hasNextPage"] is False


async def test_a_private_accounts_followers_are_hidden_from_non_followers(
    graphql: GraphQLClient,
) -> None:
    owner, follower, stranger = (
        await graphql.sign_up(private=True),
        await graphql.sign_up(),
        await graphql.sign_up(),
    )
    await follow(graphql, follower, owner)
    await graphql.data(RESPOND, {"id": follower.id, "approve": True}, token=owner.token)

    assert await follower_names(graphql, owner, viewer=stranger) == []
    assert await follower_names(graphql, owner, viewer=follower) == [follower.username]
    assert await follower_names(graphql, owner, viewer=owner) == [follower.username]


async def test_follower_pages_are_stable_while_new_followers_arrive(graphql: GraphQLClient) -> None:
    star = await graphql.sign_up()
    fans = [await graphql.sign_up() for _ in range(5)]
    for fan in fans:
        await follow(graphql, fan, star)
    first_page = (await graphql.data(FOLLOWERS, {"id": star.id, "first": 2}, token=star.token))[
        "node"
    ]["followers"]

    await follow(graphql, await graphql.sign_up(), star)  # a newcomer lands on page one
    rest = (
        await graphql.data(
            FOLLOWERS,
            {"id": star.id, "first": 10, "after": first_page["pageInfo"]["endCursor"]},
            token=star.token,
        )
    )["node"]["followers"]

    newest_first = [fan.username for fan in reversed(fans)]
    assert [e["node"]["username"] for e in first_page["edges"]] == newest_first[:2]
    assert first_page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["username"] for e in rest["edges"]] == newest_first[2:]
    assert rest["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("after", ["garbage", "azpub3RhbnVtYmVy", "!!"])
async def test_a_malformed_cursor_is_bad_user_input(graphql: GraphQLClient, after: str) -> None:
    star = await graphql.sign_up()

    body = await graphql.execute(FOLLOWERS, {"id": star.id, "after": after}, token=star.token)

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_negative_page_size_is_bad_user_input(graphql: GraphQLClient) -> None:
    star = await graphql.sign_up()

    body = await graphql.execute(FOLLOWERS, {"id": star.id, "first": -1}, token=star.token)

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
