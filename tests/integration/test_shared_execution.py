"""The receivers of one like in one process share one execution of their selection set only
where it cannot depend on who receives it (schema/shared_execution.py): the same document
and variables, every field viewer-independent, and each receiver's own check passed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

from graphql import ExecutionResult

from app.services import Runtime
from resolvers.context import Context, Services
from resolvers.ids import to_global_id
from schema import build_schema
from storage.follow import FollowState
from storage.post import PostRecord
from storage.user import UserRecord
from subscriptions.channels import post_channel
from subscriptions.events import PostLiked
from tests.conftest import insert_post, insert_user
from tests.contract import operation_source
from tests.ws import until

SCHEMA = build_schema(mask_errors=False)
# Long enough for a push in a loaded run; a receiver pushed nothing waits it out once.
PUSH_SECONDS = 2.0
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


async def no_close(code: int, reason: str) -> None:
    raise AssertionError(f"closed the socket: {code} {reason}")


async def public_post(services: Services) -> PostRecord:
    author = await insert_user(services)
    return await insert_post(services, author.id)


async def first_pushes(
    services: Services,
    post: PostRecord,
    liker: UserRecord,
    subscribers: list[tuple[UserRecord, str]],
) -> list[ExecutionResult | None]:
    """What each (viewer, document) subscriber is pushed for one like by `liker`, or None
    for one pushed nothing."""
    streams: list[AsyncIterator[Any]] = []
    for viewer, document in subscribers:
        context = Context.for_viewer(services, viewer)
        context.close_socket = no_close  # as the WebSocket handler sets it
        stream = await SCHEMA.subscribe(
            document,
            variable_values={"postId": to_global_id("Post", post.id)},
            context_value=context,
        )
        streams.append(cast("AsyncIterator[Any]", stream))
    firsts = [asyncio.ensure_future(anext(stream)) for stream in streams]
    await until(lambda: services.bus.subscriber_count(post_channel(post.id)) == len(subscribers))
    await services.stores.likes.insert(services.ids.next_id(), liker.id, post.id)
    await services.stores.posts.increment_counts(post.id, like=1)
    await services.bus.publish(PostLiked(post_id=post.id, actor_id=liker.id))
    done, pending = await asyncio.wait(firsts, timeout=PUSH_SECONDS)
    for waiting in pending:
        waiting.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for opened in streams:
        await cast("Any", opened).aclose()
    return [first.result() if first in done else None for first in firsts]


async def test_receivers_of_a_viewer_independent_selection_share_one_execution(
    runtime: Runtime,
) -> None:
    # Given three viewers subscribed with the contract's PostLiked (ids, counts, username)
    services = runtime.services
    post, liker = await public_post(services), await insert_user(services)
    viewers = [await insert_user(services) for _ in range(3)]
    # When one like reaches them
    results = await first_pushes(
        services, post, liker, [(viewer, operation_source("PostLiked")) for viewer in viewers]
    )
    # Then all get the same answer, from one execution's data
    assert all(result is not None and result.errors is None for result in results)
    pushed = [cast("ExecutionResult", result) for result in results]
    assert pushed[0].data == {
        "postLiked": {
            "post": {"id": to_global_id("Post", post.id), "likeCount": 1},
            "user": {"id": to_global_id("User", liker.id), "username": liker.username},
        }
    }
    assert all(result.data is pushed[0].data for result in pushed)


async def test_a_selection_with_a_viewer_dependent_field_is_executed_per_receiver(
    runtime: Runtime,
) -> None:
    # Given the liker and another viewer, both subscribed asking viewerHasLiked
    services = runtime.services
    post, liker = await public_post(services), await insert_user(services)
    other = await insert_user(services)
    # When the liker's like reaches both
    results = await first_pushes(
        services, post, liker, [(liker, WITH_VIEWER_FIELD), (other, WITH_VIEWER_FIELD)]
    )
    # Then each gets its own answer: the liker has liked it, the other has not
    mine, theirs = (cast("ExecutionResult", result).data for result in results)
    assert mine is not None and theirs is not None
    assert mine["postLiked"]["post"]["viewerHasLiked"] is True
    assert theirs["postLiked"]["post"]["viewerHasLiked"] is False


async def test_a_viewer_dependent_field_in_a_fragment_is_executed_per_receiver(
    runtime: Runtime,
) -> None:
    # Given a viewer the liker follows and one it does not, asking followsViewer through a
    # fragment
    services = runtime.services
    post, liker = await public_post(services), await insert_user(services)
    followed, stranger = await insert_user(services), await insert_user(services)
    await services.stores.follows.insert(
        services.ids.next_id(), liker.id, followed.id, FollowState.FOLLOWING
    )
    # When the like reaches both
    results = await first_pushes(
        services, post, liker, [(followed, THROUGH_FRAGMENT), (stranger, THROUGH_FRAGMENT)]
    )
    # Then each is told whether the liker follows them, not the other's answer
    answers = [cast("ExecutionResult", result).data for result in results]
    assert [data["postLiked"]["user"]["followsViewer"] for data in answers if data] == [
        True,
        False,
    ]


async def test_a_receiver_who_may_not_see_the_liker_gets_nothing_while_others_share(
    runtime: Runtime,
) -> None:
    # Given three viewers of the contract's PostLiked, one of whom blocked the liker
    services = runtime.services
    post, liker = await public_post(services), await insert_user(services)
    viewers = [await insert_user(services) for _ in range(3)]
    await services.stores.blocks.insert(viewers[1].id, liker.id)
    # When the like is published
    results = await first_pushes(
        services, post, liker, [(viewer, operation_source("PostLiked")) for viewer in viewers]
    )
    # Then the blocker is pushed nothing and the other two the same
    assert results[1] is None
    first, third = cast("ExecutionResult", results[0]), cast("ExecutionResult", results[2])
    assert first.data is not None and first.data is third.data


async def test_receivers_of_different_documents_each_get_their_own_documents_answer(
    runtime: Runtime,
) -> None:
    # Given two viewers subscribed with two viewer-independent documents of different fields
    services = runtime.services
    post, liker = await public_post(services), await insert_user(services)
    first, second = await insert_user(services), await insert_user(services)
    with_counts = """
    subscription PostLikedCounts($postId: ID!) {
      postLiked(postId: $postId) { post { id commentCount } user { id followerCount } }
    }
    """
    # When one like reaches both
    results = await first_pushes(
        services,
        post,
        liker,
        [(first, operation_source("PostLiked")), (second, with_counts)],
    )
    # Then each gets the fields its own document asked for
    mine, theirs = (cast("ExecutionResult", result).data for result in results)
    assert mine is not None and theirs is not None
    assert set(mine["postLiked"]["user"]) == {"id", "username"}
    assert set(theirs["postLiked"]["user"]) == {"id", "followerCount"}
