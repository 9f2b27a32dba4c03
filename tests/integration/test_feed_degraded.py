"""Degraded paths keep paging: with Redis down, or the ranker failing, the RANKED feed and
Explore are served newest first, and cursors keep working across the switch.

Each test has an app of its own against a redis-server it can stop and start again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.services import Runtime, open_runtime
from ranking.model import Features, Probabilities
from ranking.ranker import Ranker
from resolvers import feed as feed_resolvers
from resolvers.context import Context
from resolvers.feed import FeedOrder
from storage.post import PostRecord
from tests.client import Account, GraphQLClient
from tests.conftest import insert_user, make_settings
from tests.media import jpeg
from tests.servers import RedisProcess, app_server, free_port

FEED = """query ($first: Int, $after: String, $order: FeedOrder) {
  feed(first: $first, after: $after, order: $order) {
    edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
EXPLORE = """query ($first: Int, $after: String) { explore(first: $first, after: $after) {
  edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state } }"
LIKE = "mutation ($id: ID!) { likePost(postId: $id) { errors { code } } }"
POSTS = 5
PAGE = 2  # pages smaller than the posts: the list is read over several pages


@pytest.fixture
async def graphql(redis_process: RedisProcess, tmp_path: Path) -> AsyncIterator[GraphQLClient]:
    """An app of this test's own, against `redis_process`."""
    settings = make_settings(
        redis_process.url, port=free_port(), fanout_in_server=True, media_dir=str(tmp_path)
    )
    async with (
        app_server(create_app(settings), settings.port) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield GraphQLClient(http)


@contextmanager
def redis_down(redis_process: RedisProcess) -> Iterator[None]:
    """An outage: Redis is stopped inside the block and started again (empty) after it."""
    redis_process.stop()
    try:
        yield
    finally:
        redis_process.start()


async def post(graphql: GraphQLClient, author: Account) -> str:
    payload = await graphql.create_post(author, [jpeg(64, 64)])
    assert payload["errors"] == []
    post_id: str = payload["post"]["id"]
    return post_id


async def page(
    graphql: GraphQLClient, viewer: Account, after: str | None, query: str = FEED
) -> Any:
    variables: dict[str, Any] = {"first": PAGE, "after": after}
    if query == FEED:
        variables["order"] = "RANKED"
    data = await graphql.data(query, variables, token=viewer.token)
    return data["feed" if query == FEED else "explore"]


def ids_of(connection: Any) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def rest_of_list(
    graphql: GraphQLClient, viewer: Account, after: str, query: str = FEED
) -> list[str]:
    """Every post from `after` to the end of the list, page by page."""
    seen: list[str] = []
    cursor: str | None = after
    while cursor is not None:
        connection = await page(graphql, viewer, cursor, query)
        seen += ids_of(connection)
        cursor = (
            connection["pageInfo"]["endCursor"] if connection["pageInfo"]["hasNextPage"] else None
        )
    return seen


async def reader_of_posts(graphql: GraphQLClient) -> tuple[Account, list[str]]:
    """A reader following an author of POSTS posts."""
    author, reader = await graphql.sign_up(), await graphql.sign_up()
    posts = [await post(graphql, author) for _ in range(POSTS)]
    await graphql.data(FOLLOW, {"id": author.id}, token=reader.token)
    return reader, posts


async def test_a_ranked_cursor_keeps_paging_newest_first_while_redis_is_down(
    graphql: GraphQLClient, redis_process: RedisProcess
) -> None:
    """Given a ranked first page read while Redis was up, when Redis goes down and the
    client pages on, then it gets the rest of the feed, none of the first page again."""
    reader, posts = await reader_of_posts(graphql)
    first = await page(graphql, reader, None)

    with redis_down(redis_process):
        rest = await rest_of_list(graphql, reader, first["pageInfo"]["endCursor"])

    seen = ids_of(first) + rest
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(posts)


async def test_a_feed_page_served_during_an_outage_keeps_paging_once_redis_is_back(
    graphql: GraphQLClient, redis_process: RedisProcess
) -> None:
    reader, posts = await reader_of_posts(graphql)
    with redis_down(redis_process):
        first = await page(graphql, reader, None)

    rest = await rest_of_list(graphql, reader, first["pageInfo"]["endCursor"])

    assert ids_of(first) + rest == list(reversed(posts))  # newest first throughout


async def test_explore_answers_from_mongodb_while_redis_is_down(
    graphql: GraphQLClient, redis_process: RedisProcess
) -> None:
    author, viewer = await graphql.sign_up(), await graphql.sign_up()
    posts = [await post(graphql, author) for _ in range(POSTS)]

    with redis_down(redis_process):
        first = await page(graphql, viewer, None, EXPLORE)
        rest = await rest_of_list(graphql, viewer, first["pageInfo"]["endCursor"], EXPLORE)

    assert ids_of(first) + rest == list(reversed(posts))


async def test_explore_served_from_mongodb_keeps_explores_rules(
    graphql: GraphQLClient, redis_process: RedisProcess
) -> None:
    """Given the viewer's own post, a followed account's, a liked one, a private account's
    and a stranger's, when Explore is served from MongoDB, then only the stranger's shows."""
    viewer, followed, liked_author, private_author, stranger = [
        await graphql.sign_up(private=index == 3) for index in range(5)
    ]
    await graphql.data(FOLLOW, {"id": followed.id}, token=viewer.token)
    for author in (viewer, followed, private_author):
        await post(graphql, author)
    liked = await post(graphql, liked_author)
    await graphql.data(LIKE, {"id": liked}, token=viewer.token)
    shown = await post(graphql, stranger)

    with redis_down(redis_process):
        explored = ids_of(
            (await graphql.data(EXPLORE, {"first": 100}, token=viewer.token))["explore"]
        )

    assert explored == [shown]


async def test_a_forged_cursor_is_refused_while_redis_is_down(
    graphql: GraphQLClient, redis_process: RedisProcess
) -> None:
    reader, _ = await reader_of_posts(graphql)

    with redis_down(redis_process):
        body = await graphql.execute(
            FEED, {"order": "RANKED", "after": "MTIzLjQ1Ni43ODkuZm9yZ2Vk"}, token=reader.token
        )

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


class UnreachableModel:
    """A model server that does not answer."""

    async def predict(self, features: Features) -> Probabilities:
        raise ConnectionError("the model server is unreachable")


@pytest.fixture
async def runtime(redis_process: RedisProcess) -> AsyncIterator[Runtime]:
    async with open_runtime(make_settings(redis_process.url)) as runtime:
        yield runtime


async def test_the_ranked_feed_is_served_newest_first_when_the_ranker_fails(
    runtime: Runtime,
) -> None:
    services = dataclasses.replace(runtime.services, ranker=Ranker(UnreachableModel()))
    viewer = await insert_user(services)
    posts = [services.ids.next_id() for _ in range(POSTS)]
    for post_id in posts:
        await services.stores.posts.insert(
            own_post(services.clock(), viewer.id, post_id), client_mutation_id=None
        )

    def context() -> Context:
        return Context.for_viewer(services, viewer)

    first = await feed_resolvers.feed(context(), PAGE, None, FeedOrder.RANKED)
    rest = await feed_resolvers.feed(context(), POSTS, first.edges[-1][0], FeedOrder.RANKED)

    seen = [record.id for _, record in first.edges + rest.edges]
    assert seen == list(reversed(posts))


def own_post(created_at: Any, author_id: int, post_id: int) -> PostRecord:
    return PostRecord(
        id=post_id, author_id=author_id, caption="", hashtags=(), mention_ids=(), media=(),
        like_count=0, comment_count=0, preview_comments=(), created_at=created_at,
    )  # fmt: skip
