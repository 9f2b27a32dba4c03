"""The embedded mode, as `make serve` runs it: every backend inside the server process
(mongomock, fakeredis with Lua, a local media folder) and the job worker with them, which
does fan-out, notifications and video transcodes.

The feed test reads the reader's feed before the post exists, so the post can only arrive
by fan-out into that existing feed: a feed read for the first time is rebuilt from MongoDB
and would show the post whether or not fan-out works.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.seed import DEMO_CLIP_SECONDS, DEMO_LOGIN, DEMO_PASSWORD
from resolvers.ids import parse_typed_id
from storage.fanout_queue import QueueStream, queue_key
from storage.feed import feed_key, member
from storage.story import tray_key
from subscriptions.channels import post_channel
from tests.client import Account
from tests.conftest import EmbeddedServer
from tests.contract import operation_source
from tests.integration.test_feed import FOLLOW, feed_ids, post
from tests.integration.test_likes_and_comments import LIKE, comment, post_view
from tests.media import decoded, jpeg
from tests.notifications import of_kind, until_notified
from tests.reels import POLL_SECONDS as REEL_POLL_SECONDS
from tests.reels import PROCESSED_SECONDS, create_reel, until_processed
from tests.ws import next_data, socket, subscribe, until

FAN_OUT_SECONDS = 1.0  # the promise: a followee's post is in the feed within a second
POLL_SECONDS = 0.02
STORY_TRAY = "{ storyTray { user { id } stories { id expiresAt viewerHasSeen } } }"
CREATE_STORY = """mutation ($upload: ID!) { createStory(input: {uploadId: $upload}) {
  story { id } errors { code } } }"""
SEEDED_REELS = """{ reels(first: 20) { edges { node { id author { id }
  video { durationSeconds } } } } }"""
WITH_VIEWER_FIELD = """subscription ($postId: ID!) {
  postLiked(postId: $postId) { post { id viewerHasLiked } } }"""
LOG_IN = """mutation ($login: String!, $password: String!) {
  logIn(input: {login: $login, password: $password}) { token user { id } errors { code } } }"""


async def user_id(embedded: EmbeddedServer, account: Account) -> int:
    found = await embedded.runtime.services.stores.users.find_id_by_username(account.username)
    assert found is not None
    return found


def record_id(global_id: str) -> int:
    parsed = parse_typed_id(global_id, "Post")
    assert parsed is not None
    return parsed


async def in_redis_feed_within(
    embedded: EmbeddedServer, reader: Account, post_id: int, seconds: float
) -> bool:
    """Polls the reader's feed in the embedded Redis itself: reading it through the API
    could rebuild it, which is what this must tell apart from fan-out."""
    redis, key = embedded.runtime.services.redis, feed_key(await user_id(embedded, reader))
    for _ in range(int(seconds / POLL_SECONDS) + 1):
        if await redis.zscore(key, member(post_id)) is not None:
            return True
        await asyncio.sleep(POLL_SECONDS)
    return False


async def reader_following(embedded: EmbeddedServer, author: Account) -> Account:
    """A reader who opened the app once (the feed exists), then followed `author`."""
    graphql = embedded.graphql
    reader = await graphql.sign_up("reader")
    assert await feed_ids(graphql, reader) == []
    await graphql.data(FOLLOW, {"id": author.id}, token=reader.token)
    return reader


async def test_a_reader_who_read_the_feed_gets_a_followees_new_post_by_fan_out_within_a_second(
    embedded: EmbeddedServer,
) -> None:
    graphql = embedded.graphql
    author = await graphql.sign_up("author")
    reader = await reader_following(embedded, author)

    new_post = await post(graphql, author, "fresh")

    assert await in_redis_feed_within(embedded, reader, record_id(new_post), FAN_OUT_SECONDS)
    assert await feed_ids(graphql, reader) == [new_post]


async def test_the_demo_user_sees_a_new_followees_post_in_the_feed_within_a_second(
    embedded: EmbeddedServer,
) -> None:
    # Given the README's demo login, who has opened the app once (the feed exists)
    graphql = embedded.graphql
    logged_in = (await graphql.data(LOG_IN, {"login": DEMO_LOGIN, "password": DEMO_PASSWORD}))[
        "logIn"
    ]
    assert logged_in["errors"] == []
    ada = Account(logged_in["user"]["id"], DEMO_LOGIN, "", logged_in["token"])
    seeded = await feed_ids(graphql, ada)
    author = await graphql.sign_up("author")
    await graphql.data(FOLLOW, {"id": author.id}, token=ada.token)

    # When the account she followed posts
    new_post = await post(graphql, author, "fresh")

    # Then fan-out puts it at the top of her feed within a second
    assert await in_redis_feed_within(embedded, ada, record_id(new_post), FAN_OUT_SECONDS)
    assert await feed_ids(graphql, ada) == [new_post, *seeded][:50]


async def test_fan_out_works_after_the_embedded_redis_lost_its_scripts(
    embedded: EmbeddedServer,
) -> None:
    graphql = embedded.graphql
    author = await graphql.sign_up("author")
    reader = await reader_following(embedded, author)
    first = await post(graphql, author)  # the fan-out script is loaded and used
    assert await in_redis_feed_within(embedded, reader, record_id(first), FAN_OUT_SECONDS)
    await embedded.runtime.services.redis.script_flush()

    second = await post(graphql, author)

    assert await in_redis_feed_within(embedded, reader, record_id(second), FAN_OUT_SECONDS)
    assert await feed_ids(graphql, reader) == [second, first]


async def test_likes_and_comments_work_in_the_embedded_mode(embedded: EmbeddedServer) -> None:
    graphql = embedded.graphql
    author, fan = await graphql.sign_up("author"), await graphql.sign_up("fan")
    post_id = await post(graphql, author)

    liked = await graphql.data(LIKE, {"id": post_id}, token=fan.token)
    added = await comment(graphql, fan, post_id, "Lovely")

    assert liked["likePost"]["post"] == {"likeCount": 1, "viewerHasLiked": True}
    assert added["errors"] == []
    view = await post_view(graphql, post_id, author)
    assert (view["likeCount"], view["commentCount"]) == (1, 1)
    assert [edge["node"]["text"] for edge in view["comments"]["edges"]] == ["Lovely"]


async def test_a_like_is_pushed_to_its_posts_subscribers_in_the_embedded_mode(
    embedded: EmbeddedServer,
) -> None:
    # Given two subscribers of a post over WebSockets on the in-process bus, one with the
    # contract's viewer-independent selection (pushed one rendering), one asking
    # viewerHasLiked (executed for itself)
    graphql = embedded.graphql
    author, watcher = await graphql.sign_up("author"), await graphql.sign_up("watcher")
    liker = await graphql.sign_up("liker")
    post_id = await post(graphql, author)
    url = str(graphql.http.base_url)
    async with socket(url, watcher.token) as shared, socket(url, liker.token) as own:
        await subscribe(shared, "1", operation_source("PostLiked"), {"postId": post_id})
        await subscribe(own, "1", WITH_VIEWER_FIELD, {"postId": post_id})
        channel = post_channel(record_id(post_id))
        deliveries = embedded.runtime.services.deliveries
        await until(lambda: deliveries.receiver_count(channel) == 2)
        # When the liker likes it
        await graphql.data(LIKE, {"id": post_id}, token=liker.token)
        # Then both are pushed the like, each its own selection
        pushed = (await next_data(shared))["postLiked"]
        assert pushed == {
            "post": {"id": post_id, "likeCount": 1},
            "user": {"id": liker.id, "username": liker.username},
        }
        assert (await next_data(own))["postLiked"]["post"]["viewerHasLiked"] is True


async def test_the_in_server_worker_writes_notifications_in_the_embedded_mode(
    embedded: EmbeddedServer,
) -> None:
    graphql = embedded.graphql
    author, fan = await graphql.sign_up("author"), await graphql.sign_up("fan")
    post_id = await post(graphql, author)

    await graphql.data(LIKE, {"id": post_id}, token=fan.token)

    nodes = await until_notified(graphql, author, of_kind("LIKE", post=post_id))
    assert [actor["id"] for actor in nodes[0]["actors"]] == [fan.id]


async def test_uploads_are_posted_to_the_server_and_served_back_in_the_embedded_mode(
    embedded: EmbeddedServer,
) -> None:
    graphql = embedded.graphql
    author = await graphql.sign_up("author")
    form = await graphql.create_upload(author, "image/jpeg", 1)

    payload = await graphql.create_post(author, [jpeg(800, 600)])

    assert form["upload"]["url"].startswith(str(graphql.http.base_url))  # the embedded form
    assert payload["errors"] == []
    [media] = payload["post"]["media"]
    async with httpx.AsyncClient() as http:
        response = await http.get(media["url"])
    assert response.status_code == 200
    assert decoded(response.content).size == (media["width"], media["height"])


async def test_readyz_reports_the_in_server_fan_out_worker(embedded: EmbeddedServer) -> None:
    response = await embedded.graphql.http.get("/readyz")

    assert response.status_code == 200, response.text
    fanout = response.json()["fanout"]
    assert fanout["worker"]["state"] == "running" and fanout["worker"]["alive"]
    assert fanout["queue"]["dead_letters"] == 0
    assert await embedded.runtime.services.redis.exists(queue_key(QueueStream.JOBS))


async def test_a_followees_new_story_reaches_a_built_tray_by_fan_out_within_a_second(
    embedded: EmbeddedServer,
) -> None:
    graphql = embedded.graphql
    author, reader = await graphql.sign_up("author"), await graphql.sign_up("reader")
    await graphql.data(FOLLOW, {"id": author.id}, token=reader.token)
    assert (await graphql.data(STORY_TRAY, token=reader.token))["storyTray"] == []  # built
    upload_id = await graphql.upload(author, jpeg(360, 640))

    created = await graphql.data(CREATE_STORY, {"upload": upload_id}, token=author.token)

    story_id = created["createStory"]["story"]["id"]
    redis = embedded.runtime.services.redis
    key, member = tray_key(await user_id(embedded, reader)), str(await user_id(embedded, author))
    for _ in range(int(FAN_OUT_SECONDS / POLL_SECONDS) + 1):
        if await redis.zscore(key, member) is not None:
            break
        await asyncio.sleep(POLL_SECONDS)
    [entry] = (await graphql.data(STORY_TRAY, token=reader.token))["storyTray"]
    assert [story["id"] for story in entry["stories"]] == [story_id]
    assert await redis.zscore(key, member) is not None


async def test_the_demo_login_finds_stories_in_the_tray_some_seen_some_expiring_soon(
    embedded: EmbeddedServer,
) -> None:
    graphql = embedded.graphql
    logged_in = (await graphql.data(LOG_IN, {"login": DEMO_LOGIN, "password": DEMO_PASSWORD}))[
        "logIn"
    ]

    tray = (await graphql.data(STORY_TRAY, token=logged_in["token"]))["storyTray"]

    assert tray[0]["user"]["id"] == logged_in["user"]["id"]  # her own story leads
    stories = [story for entry in tray[1:] for story in entry["stories"]]
    assert any(story["viewerHasSeen"] for story in stories)
    assert any(not story["viewerHasSeen"] for story in stories)
    soon = datetime.now(UTC) + timedelta(hours=1)
    assert any(datetime.fromisoformat(story["expiresAt"]) < soon for story in stories)


async def test_a_reel_is_transcoded_by_the_in_server_worker_in_the_embedded_mode(
    embedded: EmbeddedServer,
) -> None:
    graphql = embedded.graphql
    author = await graphql.sign_up("author")

    payload = await create_reel(graphql, author)

    assert payload["reel"]["status"] == "PROCESSING"
    reel = await until_processed(graphql, author, payload["reel"]["id"])
    assert reel["status"] == "READY"
    async with httpx.AsyncClient() as http:
        response = await http.get(reel["video"]["url"])
    assert response.status_code == 200 and response.content[4:8] == b"ftyp"


async def test_the_demo_login_finds_the_seeded_reels_in_her_stream(
    embedded: EmbeddedServer,
) -> None:
    """The seed's reels are transcoded by the in-server worker once the server is up: the
    demo login's stream fills as they turn READY."""
    graphql = embedded.graphql
    logged_in = (await graphql.data(LOG_IN, {"login": DEMO_LOGIN, "password": DEMO_PASSWORD}))[
        "logIn"
    ]
    shown: list[dict[str, Any]] = []
    for _ in range(int(PROCESSED_SECONDS / REEL_POLL_SECONDS)):
        page = await graphql.data(SEEDED_REELS, token=logged_in["token"])
        # The seed's clips last DEMO_CLIP_SECONDS; other tests' reels, one second.
        shown = [
            edge["node"]
            for edge in page["reels"]["edges"]
            if edge["node"]["video"]["durationSeconds"] == pytest.approx(DEMO_CLIP_SECONDS, abs=0.1)
        ]
        if shown:
            break
        await asyncio.sleep(REEL_POLL_SECONDS)

    assert shown, "no seeded reel became READY"
    assert {node["author"]["id"] for node in shown}.isdisjoint({logged_in["user"]["id"]})
