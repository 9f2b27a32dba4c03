"""Reading users: by username, by global id, and by search."""

from __future__ import annotations

import pytest

from tests.client import GraphQLClient

SEARCH = """query ($q: String!, $first: Int) {
  searchUsers(query: $q, first: $first) { edges { node { username displayName } } } }"""


async def test_a_user_is_found_by_username_regardless_of_case_and_at_sign(
    graphql: GraphQLClient,
) -> None:
    alice = await graphql.sign_up()

    data = await graphql.data(
        "query ($u: String!) { user(username: $u) { id } }", {"u": "@" + alice.username.upper()}
    )

    assert data["user"] == {"id": alice.id}


async def test_an_unknown_username_is_null(graphql: GraphQLClient) -> None:
    data = await graphql.data('{ user(username: "nobody_at_all_here") { id } }')

    assert data["user"] is None


async def test_node_resolves_a_user_by_its_global_id(graphql: GraphQLClient) -> None:
    alice = await graphql.sign_up()

    data = await graphql.data(
        "query ($id: ID!) { node(id: $id) { __typename id ... on User { username } } }",
        {"id": alice.id},
    )

    assert data["node"] == {"__typename": "User", "id": alice.id, "username": alice.username}


@pytest.mark.parametrize("node_id", ["", "garbage", "VXNlcjphYmM="])  # the last: "User:abc"
async def test_node_with_a_malformed_id_is_bad_user_input(
    graphql: GraphQLClient, node_id: str
) -> None:
    body = await graphql.execute("query ($id: ID!) { node(id: $id) { id } }", {"id": node_id})

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_search_matches_username_and_display_name_prefixes(graphql: GraphQLClient) -> None:
    by_name = await graphql.sign_up("zebrafinch")
    by_display = await graphql.sign_up()
    await graphql.data(
        'mutation { updateProfile(input: {displayName: "Zebrafinch Fan"}) { errors { field } } }',
        token=by_display.token,
    )

    data = await graphql.data(SEARCH, {"q": "ZEBRAFINCH", "first": 50})

    found = {edge["node"]["username"] for edge in data["searchUsers"]["edges"]}
    assert {by_name.username, by_display.username} <= found


async def test_search_puts_the_most_followed_first(graphql: GraphQLClient) -> None:
    quiet = await graphql.sign_up("kingfisher")
    popular = await graphql.sign_up("kingfisher")
    fan = await graphql.sign_up()
    await graphql.data(
        "mutation ($id: ID!) { followUser(userId: $id) { state } }",
        {"id": popular.id},
        token=fan.token,
    )

    data = await graphql.data(SEARCH, {"q": "kingfisher", "first": 50})

    names = [edge["node"]["username"] for edge in data["searchUsers"]["edges"]]
    assert names.index(popular.username) < names.index(quiet.username)


async def test_search_treats_the_query_as_text_not_a_pattern(graphql: GraphQLClient) -> None:
    await graphql.sign_up("dotted")

    data = await graphql.data(SEARCH, {"q": ".*", "first": 50})

    assert data["searchUsers"]["edges"] == []
