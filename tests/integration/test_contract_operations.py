"""Each served contract operation, sent as the frontend sends it, behaves as its comment says."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.client import TEST_PASSWORD, GraphQLClient
from tests.contract import operation_source, served_operation_names


async def run(graphql: GraphQLClient, name: str, token: str | None = None, **variables: Any) -> Any:
    data = await graphql.data(operation_source(name), variables, token=token)
    return next(iter(data.values())) if len(data) == 1 else data


async def sign_up(graphql: GraphQLClient) -> None:
    username = f"contract_{uuid.uuid4().hex[:8]}"
    payload = await run(
        graphql,
        "SignUp",
        username=username,
        email=f"{username}@example.com",
        password=TEST_PASSWORD,
    )
    assert payload["errors"] == [] and payload["token"]
    assert payload["user"]["username"] == username
    assert set(payload["user"]) == {"id", "username", "displayName", "avatarUrl"}


async def log_in(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    payload = await run(graphql, "LogIn", login=account.email, password=TEST_PASSWORD)
    assert payload["errors"] == [] and payload["user"]["id"] == account.id


async def log_out(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    assert (await run(graphql, "LogOut", account.token)) == {"ok": True}
    body = await graphql.execute(operation_source("Viewer"), token=account.token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def viewer(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    me = await run(graphql, "Viewer", account.token)
    assert me["id"] == account.id
    assert (me["followerCount"], me["followingCount"], me["postCount"]) == (0, 0, 0)


async def update_profile(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    payload = await run(
        graphql, "UpdateProfile", account.token, displayName="Grace", bio="COBOL", isPrivate=True
    )
    assert payload["errors"] == []
    assert payload["user"] | {"id": None} == {
        "id": None,
        "username": account.username,
        "displayName": "Grace",
        "avatarUrl": None,
        "bio": "COBOL",
        "isPrivate": True,
    }


async def followers(graphql: GraphQLClient) -> None:
    star, fan = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "FollowUser", fan.token, userId=star.id)
    page = (await run(graphql, "Followers", star.token, userId=star.id))["followers"]
    assert [edge["node"]["id"] for edge in page["edges"]] == [fan.id]
    assert page["pageInfo"]["hasNextPage"] is False


async def follow_user(graphql: GraphQLClient) -> None:
    fan, star, owner = [await graphql.sign_up() for _ in range(3)]
    await run(graphql, "UpdateProfile", owner.token, isPrivate=True)
    public = await run(graphql, "FollowUser", fan.token, userId=star.id)
    private = await run(graphql, "FollowUser", fan.token, userId=owner.id)
    assert (public["state"], public["user"]["followerCount"]) == ("FOLLOWING", 1)
    assert (private["state"], private["user"]["followerCount"]) == ("REQUESTED", 0)


async def unfollow_user(graphql: GraphQLClient) -> None:
    fan, star = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "FollowUser", fan.token, userId=star.id)
    payload = await run(graphql, "UnfollowUser", fan.token, userId=star.id)
    assert payload["user"]["followerCount"] == 0
    assert payload["user"]["viewerFollowState"] == "NONE"


async def follow_requests(graphql: GraphQLClient) -> None:
    fan, owner = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "UpdateProfile", owner.token, isPrivate=True)
    await run(graphql, "FollowUser", fan.token, userId=owner.id)
    page = await run(graphql, "FollowRequests", owner.token)
    assert [edge["node"]["username"] for edge in page["edges"]] == [fan.username]


async def respond_to_follow_request(graphql: GraphQLClient) -> None:
    fan, owner = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "UpdateProfile", owner.token, isPrivate=True)
    await run(graphql, "FollowUser", fan.token, userId=owner.id)
    payload = await run(graphql, "RespondToFollowRequest", owner.token, userId=fan.id, approve=True)
    assert payload["errors"] == []
    state = await run(graphql, "FollowUser", fan.token, userId=owner.id)
    assert state["state"] == "FOLLOWING"


async def block_user(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    assert await run(graphql, "BlockUser", alice.token, userId=bob.id) == {"ok": True, "errors": []}
    assert (
        await graphql.data(operation_source("Followers"), {"userId": alice.id}, token=bob.token)
    )["node"] is None


async def unblock_user(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    await run(graphql, "BlockUser", alice.token, userId=bob.id)
    assert await run(graphql, "UnblockUser", alice.token, userId=bob.id) == {
        "ok": True,
        "errors": [],
    }


async def search_users(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    page = await run(graphql, "SearchUsers", query=account.username)
    assert [edge["node"]["id"] for edge in page["edges"]] == [account.id]


SCENARIOS: dict[str, Callable[[GraphQLClient], Awaitable[None]]] = {
    "SignUp": sign_up,
    "LogIn": log_in,
    "LogOut": log_out,
    "Viewer": viewer,
    "UpdateProfile": update_profile,
    "Followers": followers,
    "FollowUser": follow_user,
    "UnfollowUser": unfollow_user,
    "FollowRequests": follow_requests,
    "RespondToFollowRequest": respond_to_follow_request,
    "BlockUser": block_user,
    "UnblockUser": unblock_user,
    "SearchUsers": search_users,
}


def test_every_served_operation_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(served_operation_names())


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_contract_operation_behaves_as_documented(graphql: GraphQLClient, name: str) -> None:
    await SCENARIOS[name](graphql)
