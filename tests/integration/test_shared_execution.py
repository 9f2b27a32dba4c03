"""The receivers of one like over WebSockets are pushed one rendering of their selection
where it cannot depend on who receives it (schema/shared_execution.py): the same document
and variables, every field viewer-independent, and each receiver's own check passed; any
other selection is executed per receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from resolvers.ids import parse_global_id
from schema.shared_execution import SharedLane
from subscriptions.channels import post_channel
from tests.client import Account
from tests.contract import operation_source
from tests.served import Server, own_server
from tests.ws import next_data, nothing_within, open_socket, subscribe

# How long a test waits to see that a like is not pushed: delivery here takes milliseconds.
NOTHING_WITHIN_SECONDS = 1.0
WITH_VIEWER_FIELD = """
subscription PostLikedWithViewer($postId: ID!) {
  postLiked(postId: $postId) { post { id likeCount viewerHasLiked } user { id username } }
}
"""
THROUGH_FRAGMENT = """
subscription PostLikedByFragment($postId: ID!) {
  postLiked(postId: $postId) { post { id likeCount } user { ...Liker } }
}
fragment Liker on User { id username followsViewer }
"""
WITH_COUNTS = """
subscription PostLikedCounts($postId: ID!) {
  postLiked(postId: $postId) { post { id commentCount } user { id followerCount } }
}
"""


async def subscribed(
    server: Server, stack: AsyncExitStack, post_id: str, watchers: list[tuple[Account, str]]
) -> list[ClientConnection]:
    """A socket per (viewer, document), each subscribed to `post_id`'s likes."""
    sockets = []
    for viewer, document in watchers:
        websocket = await open_socket(server.url, viewer.token)
        stack.push_async_callback(websocket.close)
        await subscribe(websocket, "1", document, {"postId": post_id})
        sockets.append(websocket)
    parsed = parse_global_id(post_id)
    assert parsed is not None
    await server.subscribed(post_channel(parsed[1]), len(watchers))
    return sockets


async def like(server: Server, liker: Account, post_id: str) -> None:
    assert (await server.run("LikePost", liker, postId=post_id))["errors"] == []


@pytest.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with own_server(tmp_path_factory) as server:
        yield server


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The payloads SharedLane renders, one entry per rendering."""
    rendered: list[str] = []
    render = SharedLane.render

    async def counted(self: SharedLane[Any], result: Any) -> str | None:
        payload = await render(self, result)
        if payload is not None:
            rendered.append(payload)
        return payload

    monkeypatch.setattr(SharedLane, "render", counted)
    return rendered


async def test_receivers_of_a_viewer_independent_selection_are_pushed_one_rendering(
    served: Server, renders: list[str]
) -> None:
    # Given three viewers' sockets subscribed with the contract's PostLiked
    author, liker = await served.graphql.sign_up(), await served.graphql.sign_up()
    viewers = [await served.graphql.sign_up() for _ in range(3)]
    post_id = await served.post(author)
    async with AsyncExitStack() as stack:
        sockets = await subscribed(
            served, stack, post_id, [(viewer, operation_source("PostLiked")) for viewer in viewers]
        )
        # When one like reaches them
        await like(served, liker, post_id)
        pushed = [await next_data(websocket) for websocket in sockets]
    # Then all are pushed the same answer, rendered once
    assert (
        pushed
        == [
            {
                "postLiked": {
                    "post": {"id": post_id, "likeCount": 1},
                    "user": {"id": liker.id, "username": liker.username},
                }
            }
        ]
        * 3
    )
    assert len(renders) == 1


async def test_a_selection_with_a_viewer_dependent_field_is_executed_per_receiver(
    served: Server, renders: list[str]
) -> None:
    # Given the liker and another viewer, both subscribed asking viewerHasLiked
    author, liker = await served.graphql.sign_up(), await served.graphql.sign_up()
    other = await served.graphql.sign_up()
    post_id = await served.post(author)
    async with AsyncExitStack() as stack:
        mine, theirs = await subscribed(
            served, stack, post_id, [(liker, WITH_VIEWER_FIELD), (other, WITH_VIEWER_FIELD)]
        )
        # When the liker's like reaches both
        await like(served, liker, post_id)
        # Then each gets its own answer, from an execution of its own
        assert (await next_data(mine))["postLiked"]["post"]["viewerHasLiked"] is True
        assert (await next_data(theirs))["postLiked"]["post"]["viewerHasLiked"] is False
    assert renders == []


async def test_a_viewer_dependent_field_in_a_fragment_is_executed_per_receiver(
    served: Server, renders: list[str]
) -> None:
    # Given a viewer the liker follows and one it does not, asking followsViewer through a
    # fragment
    author, liker = await served.graphql.sign_up(), await served.graphql.sign_up()
    followed, stranger = await served.graphql.sign_up(), await served.graphql.sign_up()
    await served.run("FollowUser", liker, userId=followed.id)
    post_id = await served.post(author)
    async with AsyncExitStack() as stack:
        sockets = await subscribed(
            served, stack, post_id, [(followed, THROUGH_FRAGMENT), (stranger, THROUGH_FRAGMENT)]
        )
        # When the like reaches both
        await like(served, liker, post_id)
        answers = [await next_data(websocket) for websocket in sockets]
    # Then each is told whether the liker follows them, not the other's answer
    assert [data["postLiked"]["user"]["followsViewer"] for data in answers] == [True, False]
    assert renders == []


async def test_a_receiver_who_may_not_see_the_liker_is_pushed_nothing_while_others_share(
    served: Server, renders: list[str]
) -> None:
    # Given three viewers of the contract's PostLiked, one of whom blocked the liker
    author, liker = await served.graphql.sign_up(), await served.graphql.sign_up()
    viewers = [await served.graphql.sign_up() for _ in range(3)]
    await served.run("BlockUser", viewers[1], userId=liker.id)
    post_id = await served.post(author)
    async with AsyncExitStack() as stack:
        first, blocker, third = await subscribed(
            served, stack, post_id, [(viewer, operation_source("PostLiked")) for viewer in viewers]
        )
        # When the like is published
        await like(served, liker, post_id)
        # Then the blocker is pushed nothing and the other two the same rendering
        assert await next_data(first) == await next_data(third)
        assert await nothing_within(blocker, NOTHING_WITHIN_SECONDS)
    assert len(renders) == 1


async def test_receivers_of_different_documents_each_get_their_own_documents_answer(
    served: Server, renders: list[str]
) -> None:
    # Given two viewers subscribed with two viewer-independent documents of different fields
    author, liker = await served.graphql.sign_up(), await served.graphql.sign_up()
    first, second = await served.graphql.sign_up(), await served.graphql.sign_up()
    post_id = await served.post(author)
    async with AsyncExitStack() as stack:
        mine, theirs = await subscribed(
            served, stack, post_id, [(first, operation_source("PostLiked")), (second, WITH_COUNTS)]
        )
        # When one like reaches both
        await like(served, liker, post_id)
        # Then each gets the fields its own document asked for, one rendering each
        assert set((await next_data(mine))["postLiked"]["user"]) == {"id", "username"}
        assert set((await next_data(theirs))["postLiked"]["user"]) == {"id", "followerCount"}
    assert len(renders) == 2
