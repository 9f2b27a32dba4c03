"""Requests over the depth, alias and token limits are refused before any resolver runs."""

from __future__ import annotations

from tests.client import GraphQLClient

DEPTH = 11  # one past schema.MAX_QUERY_DEPTH


def nested_followers(depth: int) -> str:
    query = "username"
    for _ in range(depth):
        query = f"followers {{ edges {{ node {{ {query} }} }} }}"
    return f"{{ viewer {{ {query} }} }}"


async def test_a_query_within_the_depth_limit_runs(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()

    data = await graphql.data(nested_followers(2), token=account.token)

    assert data["viewer"]["followers"]["edges"] == []


async def test_a_query_over_the_depth_limit_is_refused_before_resolving(
    graphql: GraphQLClient,
) -> None:
    # Anonymous: were any resolver to run, `logOut` would answer UNAUTHENTICATED instead.
    body = await graphql.execute(nested_followers(DEPTH).replace("{ viewer", "{ v: viewer", 1))

    assert "data" not in body or body["data"] is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_too_many_aliases_are_refused(graphql: GraphQLClient) -> None:
    aliases = " ".join(f"a{n}: logOut {{ ok }}" for n in range(31))

    body = await graphql.execute(f"mutation {{ {aliases} }}")

    assert body.get("data") is None
    assert "aliases" in body["errors"][0]["message"]


async def test_an_oversized_document_is_refused_by_its_token_count(graphql: GraphQLClient) -> None:
    fields = " ".join("a" for _ in range(3_001))  # within the document's character limit

    body = await graphql.execute(f"{{ {fields} }}")

    assert body.get("data") is None
    assert "token" in body["errors"][0]["message"].lower()


async def test_a_syntax_error_is_reported_with_its_location(graphql: GraphQLClient) -> None:
    body = await graphql.execute("{ viewer { ")

    assert body["errors"][0]["locations"]
    assert "Syntax Error" in body["errors"][0]["message"]
