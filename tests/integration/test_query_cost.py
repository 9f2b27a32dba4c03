"""Query cost: priced before anything runs, refused over the limit, reported in every
response, spent from a budget per viewer, and never below what a response holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from schema.cost import MAX_QUERY_COST
from tests.client import Account, GraphQLClient
from tests.conftest import serve
from tests.contract import operation_source
from tests.integration.test_contract_operations import SCENARIOS, run
from tests.media import jpeg

PHOTO = jpeg(64, 48)
PAGE = 3
ALIASES = " ".join(f"b{n}: bio" for n in range(30))
# The attack: ~30 million nodes, 49 s and 108 MB before this limit.
ATTACK = (
    '{ user(username: "%s") { followers(first: 100) { edges { node { following(first: 100)'
    " { edges { node { followers(first: 100) { edges { node { id username bio "
    + ALIASES
    + " } } } } } } } } } }"
    # Anonymous: were any resolver to run, `feed` would answer UNAUTHENTICATED.
    + " feed { edges { cursor } } }"
)


def objects_in(value: Any) -> int:
    """The JSON objects in `value`, itself included."""
    if isinstance(value, dict):
        return 1 + sum(objects_in(item) for item in value.values())
    if isinstance(value, list):
        return sum(objects_in(item) for item in value)
    return 0


def resolved_objects(data: Any) -> int:
    """The objects a response's data holds, each one resolved: every JSON object below the
    root (which stands for the operation's root type, not for anything resolved)."""
    return 0 if data is None else objects_in(data) - 1


async def test_the_attack_query_is_refused_before_any_resolver_runs(
    graphql: GraphQLClient,
) -> None:
    account = await graphql.sign_up()

    body = await graphql.execute(ATTACK % account.username)

    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > MAX_QUERY_COST == error["extensions"]["limit"]
    assert body["extensions"]["cost"]["requested"] == error["extensions"]["cost"]


async def test_an_ordinary_response_reports_its_cost_and_budget(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()

    body = await graphql.execute(operation_source("Viewer"), token=account.token)

    assert body["data"]["viewer"]["id"] == account.id
    cost = body["extensions"]["cost"]
    assert (cost["requested"], cost["limit"]) == (1, MAX_QUERY_COST)
    assert cost["budget"]["remaining"] == cost["budget"]["capacity"] - 1


async def test_a_request_error_reports_a_cost_of_nothing(graphql: GraphQLClient) -> None:
    body = await graphql.execute("{ viewer { noSuchField } }")

    assert body["extensions"]["cost"] == {"requested": 0, "limit": MAX_QUERY_COST}


class _Recorder(GraphQLClient):
    """A client that checks every response it gets against the bound."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        super().__init__(http)
        self.checked = 0

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        response = await super().post(query, variables, token=token)
        body = response.json()
        assert resolved_objects(body.get("data")) <= body["extensions"]["cost"]["requested"], query
        self.checked += 1
        return response


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_every_response_of_a_contract_scenario_holds_no_more_objects_than_it_cost(
    server_url: str, name: str
) -> None:
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        recorder = _Recorder(http)

        await SCENARIOS[name](recorder)

    assert recorder.checked > 0


@pytest.fixture(scope="module")
async def full_pages(graphql: GraphQLClient) -> dict[str, Any]:
    """A graph where every list the contract pages through holds more than a page of 3:
    an author followed by 4 accounts (and following them), with 4 posts of 2 photos each,
    every post with 4 comments, a tag on every post, and 4 pending follow requests."""
    author = await graphql.sign_up("fullpages")
    fans = [await graphql.sign_up("fullpages") for _ in range(4)]
    tag = f"full{author.username.rsplit('_', 1)[-1]}"
    for fan in fans:
        await run(graphql, "FollowUser", fan.token, userId=author.id)
        await run(graphql, "FollowUser", author.token, userId=fan.id)
    posts = []
    for _ in range(4):
        payload = await graphql.create_post(author, [PHOTO, PHOTO], f"#{tag}")
        posts.append(payload["post"]["id"])
        for fan in fans:
            await run(graphql, "AddComment", fan.token, postId=posts[-1], text="a comment")
    private: Account = await graphql.sign_up("fullpages", private=True)
    for fan in fans:
        await run(graphql, "FollowUser", fan.token, userId=private.id)
    stranger = await graphql.sign_up("fullpages")
    return {
        "author": author,
        "fan": fans[0],
        "private": private,
        "stranger": stranger,
        "posts": posts,
        "tag": tag,
    }


def full_page_requests(world: dict[str, Any]) -> dict[str, tuple[Account, dict[str, Any]]]:
    author, fan = world["author"], world["fan"]
    return {
        "Profile": (fan, {"username": author.username, "first": PAGE}),
        "Followers": (fan, {"userId": author.id, "first": PAGE}),
        "FollowRequests": (world["private"], {"first": PAGE}),
        "SearchUsers": (fan, {"query": "fullpages", "first": PAGE}),
        "Post": (fan, {"id": world["posts"][0]}),
        "Comments": (fan, {"postId": world["posts"][0], "first": PAGE}),
        "Hashtag": (fan, {"name": world["tag"], "first": PAGE}),
        "Feed": (fan, {"first": PAGE, "order": "CHRONOLOGICAL"}),
        "Explore": (world["stranger"], {"first": PAGE}),
    }


@pytest.mark.parametrize(
    "name",
    [
        "Profile",
        "Followers",
        "FollowRequests",
        "SearchUsers",
        "Post",
        "Comments",
        "Hashtag",
        "Feed",
        "Explore",
    ],
)
async def test_a_full_page_of_a_contract_list_holds_no_more_objects_than_it_cost(
    graphql: GraphQLClient, full_pages: dict[str, Any], name: str
) -> None:
    viewer, variables = full_page_requests(full_pages)[name]

    body = await graphql.execute(operation_source(name), variables, token=viewer.token)

    assert "errors" not in body, body["errors"]
    assert resolved_objects(body["data"]) <= body["extensions"]["cost"]["requested"]


async def test_a_full_page_is_full(graphql: GraphQLClient, full_pages: dict[str, Any]) -> None:
    """The check above means something only if the pages hold what they can."""
    viewer, variables = full_page_requests(full_pages)["Feed"]

    data = await graphql.data(operation_source("Feed"), variables, token=viewer.token)

    assert len(data["feed"]["edges"]) == PAGE
    assert all(len(edge["node"]["comments"]["edges"]) == 2 for edge in data["feed"]["edges"])
    assert all(len(edge["node"]["media"]) == 2 for edge in data["feed"]["edges"])


@pytest.fixture
async def tiny_budget_url(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """An app whose budget is 5 points a minute, on a Redis database no other app uses (the
    anonymous budget is keyed by client address, and every test client is 127.0.0.1)."""
    own_redis = redis_url.rsplit("/", 1)[0] + "/2"
    async with serve(
        {"cost_budget_per_minute": 5}, own_redis, str(tmp_path_factory.mktemp("budget"))
    ) as url:
        yield url


async def test_a_spent_budget_is_rate_limited_with_a_retry_after(tiny_budget_url: str) -> None:
    query = '{ user(username: "nobody") { id } }'  # one object: 1 point
    async with httpx.AsyncClient(base_url=tiny_budget_url, timeout=30) as http:
        client = GraphQLClient(http)
        for _ in range(5):
            assert "errors" not in await client.execute(query)

        body = await client.execute(query)

    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfterSeconds"] <= 60
    assert body["extensions"]["cost"]["budget"]["remaining"] == 0
