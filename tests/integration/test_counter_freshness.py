"""Counters in cached records: every change invalidates the record, so readers see the new
count at once, and the actor's own payload shows the count its write left."""

from __future__ import annotations

import dataclasses
from typing import Any

from app.services import Runtime
from resolvers.context import Context
from resolvers.ids import to_global_id
from resolvers.like import like_post
from storage.cache import Cache, record_cache
from storage.post import PostRecord, PostStore
from tests.client import Account, GraphQLClient
from tests.conftest import insert_user
from tests.media import jpeg

LIKE = "mutation ($id: ID!) { likePost(postId: $id) { post { likeCount } } }"
POST = "query ($id: ID!) { node(id: $id) { ... on Post { likeCount } } }"
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state } }"
USER = "query ($id: ID!) { node(id: $id) { ... on User { followerCount } } }"


async def post_counts(graphql: GraphQLClient, post_id: str, reader: Account) -> Any:
    return (await graphql.data(POST, {"id": post_id}, token=reader.token))["node"]


async def test_a_likers_payload_shows_the_new_count_of_a_cached_post(
    graphql: GraphQLClient,
) -> None:
    author, reader, fan = [await graphql.sign_up() for _ in range(3)]
    post_id = (await graphql.create_post(author, [jpeg(64, 64)]))["post"]["id"]
    await post_counts(graphql, post_id, reader)  # the post is cached with no likes

    payload = (await graphql.data(LIKE, {"id": post_id}, token=fan.token))["likePost"]

    assert payload["post"]["likeCount"] == 1


async def test_readers_see_a_like_on_a_cached_post_at_once(graphql: GraphQLClient) -> None:
    author, reader, fan = [await graphql.sign_up() for _ in range(3)]
    post_id = (await graphql.create_post(author, [jpeg(64, 64)]))["post"]["id"]
    await post_counts(graphql, post_id, reader)

    await graphql.data(LIKE, {"id": post_id}, token=fan.token)

    assert (await post_counts(graphql, post_id, reader))["likeCount"] == 1


async def test_readers_see_a_follow_in_a_cached_users_count_at_once(
    graphql: GraphQLClient,
) -> None:
    star, reader, fan = [await graphql.sign_up() for _ in range(3)]
    await graphql.data(USER, {"id": star.id}, token=reader.token)  # the user is cached

    await graphql.data(FOLLOW, {"id": star.id}, token=fan.token)

    user = (await graphql.data(USER, {"id": star.id}, token=reader.token))["node"]
    assert user["followerCount"] == 1


class InvalidationsLost(Cache[int, PostRecord]):
    """A post cache whose invalidations never reach Redis, as when it is unreachable for
    the write but not for the reads around it."""

    def __init__(self, cache: Cache[int, PostRecord]) -> None:
        self.__dict__.update(cache.__dict__)

    async def delete(self, *keys: int) -> None:
        pass


async def test_a_likers_payload_shows_the_new_count_when_the_invalidation_was_lost(
    runtime: Runtime,
) -> None:
    services = runtime.services
    author, fan = await insert_user(services), await insert_user(services)
    post = PostRecord(
        id=services.ids.next_id(),
        author_id=author.id,
        caption="",
        hashtags=(),
        mention_ids=(),
        media=(),
        like_count=0,
        comment_count=0,
        preview_comments=(),
        created_at=services.clock(),
    )
    posts = PostStore(
        runtime.database["posts"],
        InvalidationsLost(record_cache(services.redis, "post", PostRecord)),
    )
    await posts.insert(post, client_mutation_id=None)
    await posts.find_by_ids([post.id])  # cached with no likes, and never invalidated
    stores = dataclasses.replace(services.stores, posts=posts)
    context = Context.for_viewer(dataclasses.replace(services, stores=stores), fan)

    result = await like_post(context, to_global_id("Post", post.id))

    assert result.post is not None and result.post.like_count == 1
