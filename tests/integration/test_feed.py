"""The home feed: fan-out on write, the hybrid for large accounts, and what the graph does
to it. Against the test server, whose fan-out worker runs inside it on a real redis-server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.services import Runtime
from storage.ranked_window import Surface, ranked_window_key
from tests.client import Account, GraphQLClient
from tests.conftest import TEST_FANOUT_MAX_FOLLOWERS
from tests.feeds import record_id, stored_feed
from tests.media import jpeg

FEED = """query ($first: Int, $after: String, $order: FeedOrder) {
  feed(first: $first, after: $after, order: $order) {
    edges { cursor node { id author { username } } } pageInfo { hasNextPage endCursor } } }"""
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state } }"
UNFOLLOW = "mutation ($id: ID!) { unfollowUser(userId: $id) { user { id } } }"
BLOCK = "mutation ($id: ID!) { blockUser(userId: $id) { ok } }"
DELETE = "mutation ($id: ID!) { deletePost(postId: $id) { ok } }"
FAN_OUT_SECONDS = 10  # the worker picks jobs up at once; this only bounds a failing test


async def feed_page(
    graphql: GraphQLClient, viewer: Account, order: str, first: int, after: str | None = None
) -> Any:
    variables = {"order": order, "first": first, "after": after}
    return (await graphql.data(FEED, variables, token=viewer.token))["feed"]


async def feed_ids(
    graphql: GraphQLClient, viewer: Account, order: str = "CHRONOLOGICAL"
) -> list[str]:
    return [edge["node"]["id"] for edge in (await feed_page(graphql, viewer, order, 50))["edges"]]


async def post(graphql: GraphQLClient, author: Account, caption: str = "") -> str:
    payload = await graphql.create_post(author, [jpeg(64, 64)], caption)
    assert payload["errors"] == []
    post_id: str = payload["post"]["id"]
    return post_id


async def eventually_in_feed(graphql: GraphQLClient, viewer: Account, post_id: str) -> None:
    for _ in range(FAN_OUT_SECONDS * 20):
        if post_id in await feed_ids(graphql, viewer):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{post_id} did not reach the feed of {viewer.username}")


async def follower_of(graphql: GraphQLClient, author: Account) -> Account:
    """A new account that follows `author` and has read its feed (so the feed exists)."""
    follower = await graphql.sign_up()
    await graphql.data(FOLLOW, {"id": author.id}, token=follower.token)
    await feed_ids(graphql, follower)
    return follower


async def test_a_post_reaches_the_feeds_of_followers_and_its_author(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    followers = [await follower_of(graphql, author) for _ in range(3)]
    await feed_ids(graphql, author)

    post_id = await post(graphql, author)

    for reader in [author, *followers]:
        await eventually_in_feed(graphql, reader, post_id)


async def test_a_stranger_does_not_see_the_post_in_their_feed(graphql: GraphQLClient) -> None:
    author, stranger = await graphql.sign_up(), await graphql.sign_up()
    await feed_ids(graphql, stranger)
    watcher = await follower_of(graphql, author)
    post_id = await post(graphql, author)
    await eventually_in_feed(graphql, watcher, post_id)

    assert post_id not in await feed_ids(graphql, stranger)


async def test_a_returning_users_feed_is_rebuilt_from_mongodb(graphql: GraphQLClient) -> None:
    """A follower who never read the feed has none in Redis: fan-out skips them, and their
    first read still shows everything."""
    author, newcomer = await graphql.sign_up(), await graphql.sign_up()
    await graphql.data(FOLLOW, {"id": author.id}, token=newcomer.token)
    older, newer = await post(graphql, author), await post(graphql, author)

    assert await feed_ids(graphql, newcomer) == [newer, older]


async def test_a_large_accounts_posts_are_merged_at_read_time(graphql: GraphQLClient) -> None:
    star = await graphql.sign_up()
    fans = [await follower_of(graphql, star) for _ in range(TEST_FANOUT_MAX_FOLLOWERS + 1)]

    post_id = await post(graphql, star)

    for fan in fans:
        assert post_id in await feed_ids(graphql, fan)  # at once: no fan-out to wait for


async def test_posts_of_an_account_that_falls_below_the_threshold_stay_in_feeds(
    graphql: GraphQLClient,
) -> None:
    star = await graphql.sign_up()
    fans = [await follower_of(graphql, star) for _ in range(TEST_FANOUT_MAX_FOLLOWERS + 1)]
    post_id = await post(graphql, star)  # merged at read time: the star is large

    await graphql.data(UNFOLLOW, {"id": star.id}, token=fans[0].token)  # no longer large

    for fan in fans[1:]:
        await eventually_in_feed(graphql, fan, post_id)


async def test_following_merges_recent_posts_and_unfollowing_removes_them(
    graphql: GraphQLClient,
) -> None:
    author, reader = await graphql.sign_up(), await graphql.sign_up()
    await feed_ids(graphql, reader)
    post_id = await post(graphql, author)

    await graphql.data(FOLLOW, {"id": author.id}, token=reader.token)
    assert post_id in await feed_ids(graphql, reader)

    await graphql.data(UNFOLLOW, {"id": author.id}, token=reader.token)
    assert post_id not in await feed_ids(graphql, reader)


async def test_a_private_accounts_posts_arrive_once_the_request_is_approved(
    graphql: GraphQLClient,
) -> None:
    owner, reader = await graphql.sign_up(private=True), await graphql.sign_up()
    await feed_ids(graphql, reader)
    post_id = await post(graphql, owner)
    await graphql.data(FOLLOW, {"id": owner.id}, token=reader.token)
    assert post_id not in await feed_ids(graphql, reader)

    await graphql.data(
        "mutation ($id: ID!) { respondToFollowRequest(userId: $id, approve: true) { errors { code } } }",
        {"id": reader.id},
        token=owner.token,
    )

    assert post_id in await feed_ids(graphql, reader)


async def test_blocking_removes_posts_both_ways(graphql: GraphQLClient) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    await graphql.data(FOLLOW, {"id": bob.id}, token=alice.token)
    await graphql.data(FOLLOW, {"id": alice.id}, token=bob.token)
    from_alice, from_bob = await post(graphql, alice), await post(graphql, bob)
    await eventually_in_feed(graphql, alice, from_bob)
    await eventually_in_feed(graphql, bob, from_alice)

    await graphql.data(BLOCK, {"id": bob.id}, token=alice.token)

    assert from_bob not in await feed_ids(graphql, alice)
    assert from_alice not in await feed_ids(graphql, bob)


async def test_a_post_deleted_after_fan_out_never_shows(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    reader = await follower_of(graphql, author)
    post_id = await post(graphql, author)
    await eventually_in_feed(graphql, reader, post_id)

    await graphql.data(DELETE, {"id": post_id}, token=author.token)

    assert post_id not in await feed_ids(graphql, reader)
    assert post_id not in await feed_ids(graphql, reader, order="RANKED")


async def test_a_deleted_post_is_taken_out_of_the_stored_feeds(
    graphql: GraphQLClient, runtime: Runtime
) -> None:
    """Not only hidden at read time: the post leaves the feeds in Redis (by a fan-out job)."""
    author = await graphql.sign_up()
    reader = await follower_of(graphql, author)
    post_id = await post(graphql, author)
    await eventually_in_feed(graphql, reader, post_id)
    assert post_id in await stored_feed(runtime.services, reader)

    await graphql.data(DELETE, {"id": post_id}, token=author.token)

    for _ in range(FAN_OUT_SECONDS * 20):
        if post_id not in await stored_feed(runtime.services, reader):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{post_id} stayed in the stored feed of {reader.username}")


async def test_chronological_pages_are_stable_while_new_posts_arrive(
    graphql: GraphQLClient,
) -> None:
    author = await graphql.sign_up()
    posts = [await post(graphql, author) for _ in range(5)]
    first = await feed_page(graphql, author, "CHRONOLOGICAL", 2)

    await post(graphql, author)  # lands above the first page
    rest = await feed_page(graphql, author, "CHRONOLOGICAL", 10, first["pageInfo"]["endCursor"])

    newest_first = list(reversed(posts))
    assert [e["node"]["id"] for e in first["edges"]] == newest_first[:2]
    assert [e["node"]["id"] for e in rest["edges"]] == newest_first[2:]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_ranked_pages_are_stable_while_new_posts_arrive(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    posts = {await post(graphql, author) for _ in range(5)}
    first = await feed_page(graphql, author, "RANKED", 2)

    newcomer = await post(graphql, author)
    rest = await feed_page(graphql, author, "RANKED", 10, first["pageInfo"]["endCursor"])

    seen = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
    assert sorted(seen) == sorted(posts)  # each once, the newcomer waits for a reload
    assert newcomer not in seen


async def test_a_ranked_page_reads_past_posts_gone_since_the_ranking(
    graphql: GraphQLClient,
) -> None:
    """Given a ranked window whose second post was deleted after it was ranked, when the
    next page of one post is read, then the third post comes, not an empty page."""
    author = await graphql.sign_up()
    for _ in range(3):
        await post(graphql, author)
    ranked = (await feed_page(graphql, author, "RANKED", 3))["edges"]
    await graphql.data(DELETE, {"id": ranked[1]["node"]["id"]}, token=author.token)

    page = await feed_page(graphql, author, "RANKED", 1, ranked[0]["cursor"])

    assert [e["node"]["id"] for e in page["edges"]] == [ranked[2]["node"]["id"]]
    assert page["pageInfo"]["hasNextPage"] is False


async def test_a_cursor_into_an_expired_ranked_window_is_cursor_expired(
    graphql: GraphQLClient, runtime: Runtime
) -> None:
    """A genuine cursor whose window is gone: the client reloads from the top, unlike a
    forged cursor (BAD_USER_INPUT)."""
    author = await graphql.sign_up()
    for _ in range(3):
        await post(graphql, author)
    first = await feed_page(graphql, author, "RANKED", 1)
    redis, user_id = runtime.services.redis, record_id(author)
    snapshot = await redis.get(ranked_window_key(user_id, Surface.FEED, None))
    assert snapshot is not None
    await redis.delete(ranked_window_key(user_id, Surface.FEED, int(snapshot)))  # as expiry does

    body = await graphql.execute(
        FEED, {"order": "RANKED", "after": first["pageInfo"]["endCursor"]}, token=author.token
    )

    assert body["errors"][0]["extensions"]["code"] == "CURSOR_EXPIRED"


@pytest.mark.parametrize("order", ["RANKED", "CHRONOLOGICAL"])
async def test_a_cursor_of_another_viewer_is_refused(graphql: GraphQLClient, order: str) -> None:
    alice, bob = await graphql.sign_up(), await graphql.sign_up()
    for _ in range(3):
        await post(graphql, alice)
    page = await feed_page(graphql, alice, order, 1)

    body = await graphql.execute(
        FEED, {"order": order, "after": page["pageInfo"]["endCursor"]}, token=bob.token
    )

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("after", ["garbage", "MTIzLjQ1Ng==", "MTIzNDU2Nzg5LmZvcmdlZA=="])
@pytest.mark.parametrize("order", ["RANKED", "CHRONOLOGICAL"])
async def test_a_malformed_or_forged_cursor_is_refused(
    graphql: GraphQLClient, order: str, after: str
) -> None:
    viewer = await graphql.sign_up()

    body = await graphql.execute(FEED, {"order": order, "after": after}, token=viewer.token)

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_feed_needs_a_viewer(graphql: GraphQLClient) -> None:
    body = await graphql.execute(FEED)

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
