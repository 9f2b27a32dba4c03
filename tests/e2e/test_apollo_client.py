"""The HTTP endpoint as Apollo Client meets it: @apollo/client 3 (HttpLink, InMemoryCache).

Each test runs the contract's operations through tests/e2e/node/apollo_client.mjs: one
ApolloClient and its cache per test, the token sent as `Authorization: Bearer <token>`.
HttpLink is left with its defaults, so it sends Apollo Client 3's `Accept: */*`, which the
server answers with application/json. Apollo Client 4 sends
`application/graphql-response+json,application/json;q=0.9` instead (apollographql/apollo-client
#12206); the last test shows what that header changes for a request error.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.client import Account, GraphQLClient
from tests.contract import operation_source
from tests.e2e.node_tools import ApolloOutcome, ApolloStep, HttpExchange, run_apollo_client
from tests.media import jpeg

APOLLO_3_DEFAULT_ACCEPT = "*/*"
APOLLO_4_DEFAULT_ACCEPT = "application/graphql-response+json,application/json;q=0.9"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json; charset=utf-8"
UNKNOWN_FIELD_QUERY = "query ViewerWithTypo { viewer { id nope } }"
UNKNOWN_FIELD_MESSAGE = "Cannot query field 'nope' on type 'User'."
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state } }"


@pytest.fixture
def graphql_url(server_url: str) -> str:
    return f"{server_url}/graphql"


async def new_post(graphql: GraphQLClient, author: Account, caption: str) -> str:
    payload = await graphql.create_post(author, [jpeg(64, 64)], caption)
    assert payload["errors"] == [], payload["errors"]
    post_id: str = payload["post"]["id"]
    return post_id


def answered_with_json(outcome: ApolloOutcome) -> None:
    """The step made one request, which Apollo 3's default Accept got as HTTP 200 JSON."""
    assert outcome.requests == [
        HttpExchange(accept=APOLLO_3_DEFAULT_ACCEPT, status=200, content_type="application/json")
    ], outcome


def node_ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def test_given_a_token_when_apollo_queries_viewer_then_it_is_that_account(
    graphql: GraphQLClient, graphql_url: str
) -> None:
    # Given an account's token
    account = await graphql.sign_up()
    # When Apollo runs the contract's Viewer query with it
    [outcome] = await run_apollo_client(
        graphql_url, [ApolloStep("query", operation_source("Viewer"))], token=account.token
    )
    # Then the viewer is that account, as Apollo's cache normalises it (__typename added)
    assert outcome.error is None and outcome.result is not None, outcome
    viewer = outcome.result["data"]["viewer"]
    assert (viewer["__typename"], viewer["id"], viewer["username"]) == (
        "User",
        account.id,
        account.username,
    )
    assert (viewer["followerCount"], viewer["followingCount"], viewer["postCount"]) == (0, 0, 0)
    answered_with_json(outcome)


async def test_given_three_posts_in_the_feed_when_apollo_pages_by_two_then_it_shows_each_once(
    graphql: GraphQLClient, graphql_url: str
) -> None:
    # Given a reader who follows an author with three posts (the reader's first feed read
    # builds the feed from the database, so nothing waits on fan-out)
    author, reader = await graphql.sign_up(), await graphql.sign_up()
    await graphql.data(FOLLOW, {"id": author.id}, token=reader.token)
    oldest, middle, newest = [await new_post(graphql, author, f"post {n}") for n in range(3)]
    # When Apollo watches the contract's Feed query two at a time and fetchMore pages after
    # pageInfo.endCursor, merged by Apollo's relayStylePagination (keyed by `order`)
    watched, paged, cache = await run_apollo_client(
        graphql_url,
        [
            ApolloStep(
                "watchQuery",
                operation_source("Feed"),
                {"first": 2, "order": "CHRONOLOGICAL"},
            ),
            ApolloStep("fetchMore", connection="feed"),
            ApolloStep("extractCache"),
        ],
        token=reader.token,
        relay_pagination={"Query": {"feed": ["order"]}},
    )
    # Then the first page is the newest two, with more to come
    assert watched.error is None and watched.result is not None, watched
    first_page = watched.result["data"]["feed"]
    assert node_ids(first_page) == [newest, middle]
    assert first_page["pageInfo"]["hasNextPage"] is True
    # and one more request brings the rest: every post once, newest first, and no more pages
    assert paged.error is None and paged.result is not None, paged
    answered_with_json(paged)
    feed = paged.result["data"]["feed"]
    assert node_ids(feed) == [newest, middle, oldest]
    assert feed["pageInfo"]["hasNextPage"] is False
    # and each post is one normalised cache entry, keyed by __typename and id
    assert cache.result is not None
    entries = cache.result["data"]
    for post_id in (newest, middle, oldest):
        assert entries[f"Post:{post_id}"]["id"] == post_id, sorted(entries)


async def test_given_a_cached_post_when_apollo_likes_it_then_the_cache_shows_it_without_refetch(
    graphql: GraphQLClient, graphql_url: str
) -> None:
    # Given a post that Apollo has fetched with the contract's Post query
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author, "like me")
    post_query = operation_source("Post")
    fetched, liked, cached = await run_apollo_client(
        graphql_url,
        [
            ApolloStep("query", post_query, {"id": post_id}),
            # When the contract's LikePost mutation runs
            ApolloStep("mutate", operation_source("LikePost"), {"postId": post_id}),
            # and the Post query is read again, from Apollo's cache only
            ApolloStep("query", post_query, {"id": post_id}, fetch_policy="cache-only"),
        ],
        token=fan.token,
    )
    assert fetched.result is not None, fetched
    before = fetched.result["data"]["node"]
    assert (before["likeCount"], before["viewerHasLiked"]) == (0, False)
    assert liked.error is None and liked.result is not None, liked
    assert liked.result["data"]["likePost"]["errors"] == []
    # Then the mutation's `Post` updated the same normalised entry: the cached post shows the
    # like, and reading it made no request
    assert cached.error is None and cached.result is not None, cached
    after = cached.result["data"]["node"]
    assert (after["id"], after["likeCount"], after["viewerHasLiked"]) == (post_id, 1, True)
    assert cached.requests == []


async def test_given_a_follow_of_oneself_when_apollo_runs_it_then_the_payload_errors_are_data(
    graphql: GraphQLClient, graphql_url: str
) -> None:
    # Given an account
    account = await graphql.sign_up()
    # When Apollo runs the contract's FollowUser mutation on the account itself
    [outcome] = await run_apollo_client(
        graphql_url,
        [ApolloStep("mutate", operation_source("FollowUser"), {"userId": account.id})],
        token=account.token,
    )
    # Then Apollo resolves (no ApolloError) with the expected failure in the payload's errors
    assert outcome.error is None and outcome.result is not None, outcome
    assert "errors" not in outcome.result, outcome.result
    assert outcome.result["data"]["followUser"] == {
        "__typename": "FollowPayload",
        "state": None,
        "user": None,
        "errors": [
            {
                "__typename": "UserError",
                "code": "INVALID",
                "field": "userId",
                "message": "You cannot follow yourself.",
            }
        ],
    }
    answered_with_json(outcome)


async def test_given_no_token_when_apollo_logs_out_then_it_rejects_with_unauthenticated(
    graphql_url: str,
) -> None:
    # Given a client without a token
    # When Apollo runs the contract's LogOut mutation
    [outcome] = await run_apollo_client(
        graphql_url, [ApolloStep("mutate", operation_source("LogOut"))]
    )
    # Then the mutation rejects with an ApolloError that carries the GraphQL error, its code
    # UNAUTHENTICATED, and no network error: the server answered HTTP 200
    assert outcome.result is None and outcome.error is not None, outcome
    assert outcome.error["name"] == "ApolloError"
    assert outcome.error["networkError"] is None
    [error] = outcome.error["graphQLErrors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    assert error["path"] == ["logOut"]
    answered_with_json(outcome)


async def test_given_apollos_default_accept_when_a_query_fails_validation_then_graphql_errors(
    graphql: GraphQLClient, graphql_url: str
) -> None:
    """What a frontend on Apollo Client 3 sees for a request error (here an unknown field).

    Apollo Client 3.14 sends `Accept: */*` (its HttpLink default), which the GraphQL over
    HTTP spec reads as application/json. So the server answers HTTP 200, application/json,
    `{"errors": [...]}` (no `data`: nothing ran), and Apollo rejects with an ApolloError whose
    `graphQLErrors` hold the validation error (its message also the ApolloError's message)
    and whose `networkError` is null: a validation failure looks to the application like any
    other GraphQL error. The server sets no `extensions.code` on validation errors.
    """
    # Given Apollo with its default headers and a valid token
    account = await graphql.sign_up()
    # When it sends a query with an unknown field
    [outcome] = await run_apollo_client(
        graphql_url, [ApolloStep("query", UNKNOWN_FIELD_QUERY)], token=account.token
    )
    # Then the query rejects with the validation error as a GraphQL error from an HTTP 200
    assert outcome.result is None and outcome.error is not None, outcome
    assert outcome.error["networkError"] is None
    assert outcome.error["message"] == UNKNOWN_FIELD_MESSAGE
    assert [error["message"] for error in outcome.error["graphQLErrors"]] == [UNKNOWN_FIELD_MESSAGE]
    answered_with_json(outcome)


async def test_given_graphql_response_json_preferred_when_validation_fails_then_a_400_error(
    graphql: GraphQLClient, graphql_url: str
) -> None:
    """What Apollo Client 3 sees when it asks for application/graphql-response+json, as
    Apollo Client 4 does by default (or an Apollo 3 app that sets the header itself).

    The server follows the GraphQL over HTTP spec: a request error is HTTP 400,
    `application/graphql-response+json`, with `errors` and no `data` entry. Apollo Client 3
    treats any status >= 300 as a network error: the query rejects with an ApolloError whose
    message is "Response not successful: Received status code 400", whose `graphQLErrors`
    is EMPTY, and whose `networkError` is a ServerError with `statusCode` 400 and `result`
    the parsed body: the validation message is only in `networkError.result.errors`.
    """
    # Given Apollo asking for application/graphql-response+json first, and a valid token
    account = await graphql.sign_up()
    # When it sends a query with an unknown field
    [outcome] = await run_apollo_client(
        graphql_url,
        [ApolloStep("query", UNKNOWN_FIELD_QUERY)],
        token=account.token,
        headers={"accept": APOLLO_4_DEFAULT_ACCEPT},
    )
    # Then the server answered 400 with the spec's media type
    assert outcome.requests == [
        HttpExchange(accept=APOLLO_4_DEFAULT_ACCEPT, status=400, content_type=GRAPHQL_RESPONSE_JSON)
    ], outcome
    # and Apollo rejects with a network error that carries the body, not with GraphQL errors
    assert outcome.result is None and outcome.error is not None, outcome
    assert outcome.error["message"] == "Response not successful: Received status code 400"
    assert outcome.error["graphQLErrors"] == []
    network_error = outcome.error["networkError"]
    assert (network_error["name"], network_error["statusCode"]) == ("ServerError", 400)
    assert "data" not in network_error["result"], network_error
    assert [error["message"] for error in network_error["result"]["errors"]] == [
        UNKNOWN_FIELD_MESSAGE
    ]
