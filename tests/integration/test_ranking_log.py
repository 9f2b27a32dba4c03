"""Feature logging, through the app over HTTP (mongomock, a real redis-server): a ranked
page's impressions carry the features each post was scored with and the model's version, on
its first page and on the pages its cursors read from the ranked window; a newest-first
page's carry none; and the training source reads them back as labelled rows."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from app.main import create_app
from app.services import Runtime
from ranking.features import FEATURE_SCHEMA_ID, features_from_bytes
from ranking.model_file import SHIPPED_MODEL_PATH, open_model_file
from ranking.training.labels import ATTRIBUTION_WINDOW
from ranking.training.log_source import read_logged_set
from resolvers.context import Context, Services
from resolvers.ids import parse_typed_id
from resolvers.ranking import window_features
from storage.mongo import Document
from tests.client import Account, GraphQLClient
from tests.conftest import TEST_FANOUT_MAX_FOLLOWERS, make_settings
from tests.media import jpeg
from tests.servers import app_server, free_port
from tests.stories import Clock

LOG_REDIS_DATABASE = 5  # its own: no other test server's fan-out worker reads its jobs
FEED = """query ($first: Int, $after: String, $order: FeedOrder) {
  feed(first: $first, after: $after, order: $order) {
    edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state } }"
LIKE = "mutation ($id: ID!) { likePost(postId: $id) { errors { code } } }"
COMMENT = """mutation ($id: ID!) { addComment(input: {postId: $id, text: "lovely"}) {
  errors { code } } }"""
POSTS = 3
FAN_OUT_SECONDS = 10  # the worker picks jobs up at once; this only bounds a failing test


@dataclass(frozen=True)
class App:
    graphql: GraphQLClient
    runtime: Runtime
    clock: Clock  # the app's Services.clock: a test can stop it (features decay with time)

    @property
    def services(self) -> Services:
        return dataclasses.replace(self.runtime.services, clock=self.clock)


@pytest.fixture
async def app(redis_url: str, tmp_path: Path) -> AsyncIterator[App]:
    port = free_port()
    settings = make_settings(
        f"{redis_url.rsplit('/', 1)[0]}/{LOG_REDIS_DATABASE}",
        port=port,
        media_dir=str(tmp_path / "media"),
        fanout_in_server=True,
        fanout_max_followers=TEST_FANOUT_MAX_FOLLOWERS,
    )
    application = create_app(settings)
    async with (
        app_server(application, port) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        app = App(GraphQLClient(http), application.state.runtime, Clock())
        application.state.services = app.services  # what every request's context gets
        yield app


async def feed(app: App, viewer: Account, order: str, first: int, after: str | None = None) -> Any:
    variables = {"order": order, "first": first, "after": after}
    return (await app.graphql.data(FEED, variables, token=viewer.token))["feed"]


async def viewer_with_posts(app: App, *, engaged: bool = False) -> tuple[Account, list[str]]:
    """A viewer following two authors with POSTS posts between them, newest first, fanned
    out to the viewer's feed (waited for through a newest-first read). `engaged`: the viewer
    liked and commented on the oldest, so the ranker lifts it above the newer ones."""
    viewer, authors = await app.graphql.sign_up(), [await app.graphql.sign_up() for _ in range(2)]
    await feed(app, viewer, "CHRONOLOGICAL", 1)  # the viewer's feed exists: fan-out fills it
    for author in authors:
        await app.graphql.data(FOLLOW, {"id": author.id}, token=viewer.token)
    posts = []
    for n in range(POSTS):
        payload = await app.graphql.create_post(authors[n % 2], [jpeg(64, 64)])
        posts.append(payload["post"]["id"])
    if engaged:
        for mutation in (LIKE, COMMENT):
            await app.graphql.data(mutation, {"id": posts[0]}, token=viewer.token)
        await app.runtime.services.interactions.flush()  # into the affinity counters
    for _ in range(FAN_OUT_SECONDS * 20):
        page = await feed(app, viewer, "CHRONOLOGICAL", POSTS)
        if {edge["node"]["id"] for edge in page["edges"]} == set(posts):
            return viewer, posts[::-1]
        await asyncio.sleep(0.05)
    pytest.fail("the posts did not reach the viewer's feed")


def user_id(account: Account) -> int:
    parsed = parse_typed_id(account.id, "User")
    assert parsed is not None
    return parsed


def post_id(global_id: str) -> int:
    parsed = parse_typed_id(global_id, "Post")
    assert parsed is not None
    return parsed


async def logged_impressions(app: App, viewer: Account) -> list[Document]:
    await app.runtime.services.interactions.flush()
    cursor = app.runtime.database["interactions"].find(
        {"kind": "impression", "viewer_id": user_id(viewer)}
    )
    return [document async for document in cursor.sort("at", 1)]


async def read_ranked_pages(app: App, viewer: Account) -> list[str]:
    """Every page of the RANKED feed, two posts a page; the post ids in ranked order."""
    first = await feed(app, viewer, "RANKED", 2)
    second = await feed(app, viewer, "RANKED", 2, first["pageInfo"]["endCursor"])
    return [edge["node"]["id"] for edge in first["edges"] + second["edges"]]


async def test_a_ranked_page_logs_the_features_each_post_was_scored_with(app: App) -> None:
    viewer, newest_first = await viewer_with_posts(app, engaged=True)
    before = len(await logged_impressions(app, viewer))

    # One instant for the ranking and the direct call: ages and decayed counters move.
    app.clock.stop_at(datetime.now(UTC))

    ranked = await read_ranked_pages(app, viewer)

    assert ranked != newest_first  # ranked, not merely newest first: rows must follow posts
    logged = (await logged_impressions(app, viewer))[before:]
    assert [document["post_id"] for document in logged] == [post_id(p) for p in ranked]
    services = app.services
    record = (await services.stores.users.find_by_ids([user_id(viewer)]))[user_id(viewer)]
    context = Context.for_viewer(services, record)
    posts = await context.loaders.post_by_id.load_many([post_id(p) for p in ranked])
    direct = await window_features(context, record, [p for p in posts if p], services.clock())
    served = np.stack([features_from_bytes(document["features"]) for document in logged])
    np.testing.assert_array_equal(served, direct)


async def test_every_page_of_a_ranked_window_logs_its_window_model_and_schema(app: App) -> None:
    viewer, _ = await viewer_with_posts(app)
    before = len(await logged_impressions(app, viewer))

    await read_ranked_pages(app, viewer)

    logged = (await logged_impressions(app, viewer))[before:]
    _, model_file = open_model_file(SHIPPED_MODEL_PATH)
    assert [document["position"] for document in logged] == list(range(POSTS))
    assert {document["model"] for document in logged} == {model_file.version}
    assert {document["feature_schema"] for document in logged} == {FEATURE_SCHEMA_ID}
    assert len({document["window"] for document in logged}) == 1  # one ranking, two pages


async def test_a_chronological_page_logs_impressions_without_features(app: App) -> None:
    viewer, _ = await viewer_with_posts(app)
    before = len(await logged_impressions(app, viewer))

    await feed(app, viewer, "CHRONOLOGICAL", POSTS)

    logged = (await logged_impressions(app, viewer))[before:]
    assert len(logged) == POSTS
    assert not any("features" in document or "model" in document for document in logged)


async def test_the_mongodb_source_reads_ranked_impressions_back_as_labelled_rows(
    app: App,
) -> None:
    """Given a ranked feed read and a like of its top post, the log reads back as one row per
    ranked impression (the newest-first reads are no rows), the liked one labelled a like."""
    viewer, _ = await viewer_with_posts(app)
    ranked = await read_ranked_pages(app, viewer)
    await app.graphql.data(LIKE, {"id": ranked[0]}, token=viewer.token)
    await app.runtime.services.interactions.flush()
    now = app.runtime.services.clock()

    read = await read_logged_set(
        app.runtime.services.stores.interactions,
        now - timedelta(hours=1),
        now + ATTRIBUTION_WINDOW + timedelta(minutes=1),  # as read a day later: labels final
        batch=2,
    )

    assert read.logged.rows == POSTS
    assert read.logged.skipped["unranked"] > 0
    assert read.logged.labels[:, 0].tolist() == [1.0, 0.0, 0.0]  # the like head, shown order
    logged = await logged_impressions(app, viewer)
    ranked_rows = [features_from_bytes(d["features"]) for d in logged if "features" in d]
    np.testing.assert_array_equal(read.logged.features, np.stack(ranked_rows))
