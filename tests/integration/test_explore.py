"""Explore: ranked posts from public accounts the viewer does not follow, never the viewer's
own, never one the viewer liked, never from blocked accounts."""

from __future__ import annotations

from tests.client import Account, GraphQLClient
from tests.media import jpeg

EXPLORE = """query ($first: Int, $after: String) { explore(first: $first, after: $after) {
  edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
LIKE = "mutation ($id: ID!) { likePost(postId: $id) { errors { code } } }"
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state } }"
RESPOND = (
    "mutation ($id: ID!) { respondToFollowRequest(userId: $id, approve: true) { errors { code } } }"
)
POPULAR = 4  # likes that lift a post above the many unliked posts of other tests


async def popular_post(graphql: GraphQLClient, author: Account) -> str:
    payload = await graphql.create_post(author, [jpeg(64, 64)])
    post_id: str = payload["post"]["id"]
    for fan in [await graphql.sign_up() for _ in range(POPULAR)]:
        await graphql.data(LIKE, {"id": post_id}, token=fan.token)
    return post_id


async def explored(graphql: GraphQLClient, viewer: Account) -> list[str]:
    data = await graphql.data(EXPLORE, {"first": 100}, token=viewer.token)
    return [edge["node"]["id"] for edge in data["explore"]["edges"]]


async def test_a_popular_post_of_a_stranger_is_explored(graphql: GraphQLClient) -> None:
    author, viewer = await graphql.sign_up(), await graphql.sign_up()

    post_id = await popular_post(graphql, author)

    assert post_id in await explored(graphql, viewer)


async def test_posts_of_followed_accounts_are_not_explored(graphql: GraphQLClient) -> None:
    author, viewer = await graphql.sign_up(), await graphql.sign_up()
    post_id = await popular_post(graphql, author)

    await graphql.data(FOLLOW, {"id": author.id}, token=viewer.token)

    assert post_id not in await explored(graphql, viewer)


async def test_the_viewers_own_posts_are_not_explored(graphql: GraphQLClient) -> None:
    viewer = await graphql.sign_up()

    post_id = await popular_post(graphql, viewer)

    assert post_id not in await explored(graphql, viewer)


async def test_a_post_the_viewer_liked_is_not_explored(graphql: GraphQLClient) -> None:
    author, viewer = await graphql.sign_up(), await graphql.sign_up()
    post_id = await popular_post(graphql, author)

    await graphql.data(LIKE, {"id": post_id}, token=viewer.token)

    assert post_id not in await explored(graphql, viewer)


async def test_a_private_accounts_post_is_not_explored_though_a_followee_liked_it(
    graphql: GraphQLClient,
) -> None:
    """Given a private account's post liked by an approved follower whom the viewer follows
    (which makes it one of the viewer's Explore candidates), it is still not explored."""
    owner, friend, viewer = (
        await graphql.sign_up(private=True),
        await graphql.sign_up(),
        await graphql.sign_up(),
    )
    hidden = (await graphql.create_post(owner, [jpeg(64, 64)]))["post"]["id"]
    await graphql.data(FOLLOW, {"id": owner.id}, token=friend.token)
    approved = await graphql.data(RESPOND, {"id": friend.id}, token=owner.token)
    liked = await graphql.data(LIKE, {"id": hidden}, token=friend.token)
    assert approved["respondToFollowRequest"]["errors"] == liked["likePost"]["errors"] == []

    await graphql.data(FOLLOW, {"id": friend.id}, token=viewer.token)

    assert hidden not in await explored(graphql, viewer)


async def test_a_blocking_accounts_posts_are_not_explored(graphql: GraphQLClient) -> None:
    blocking_author, viewer = await graphql.sign_up(), await graphql.sign_up()
    blocked = await popular_post(graphql, blocking_author)

    await graphql.data(
        "mutation ($id: ID!) { blockUser(userId: $id) { ok } }",
        {"id": viewer.id},
        token=blocking_author.token,
    )

    assert blocked not in await explored(graphql, viewer)


async def test_a_post_liked_by_a_followed_account_is_explored(graphql: GraphQLClient) -> None:
    author, friend, viewer = [await graphql.sign_up() for _ in range(3)]
    payload = await graphql.create_post(author, [jpeg(64, 64)])  # not popular at all
    await graphql.data(FOLLOW, {"id": friend.id}, token=viewer.token)

    await graphql.data(LIKE, {"id": payload["post"]["id"]}, token=friend.token)

    assert payload["post"]["id"] in await explored(graphql, viewer)


async def test_explore_pages_by_cursor_without_repeats(graphql: GraphQLClient) -> None:
    author, viewer = await graphql.sign_up(), await graphql.sign_up()
    for _ in range(4):
        await popular_post(graphql, author)
    first = (await graphql.data(EXPLORE, {"first": 3}, token=viewer.token))["explore"]
    rest = (
        await graphql.data(
            EXPLORE, {"first": 100, "after": first["pageInfo"]["endCursor"]}, token=viewer.token
        )
    )["explore"]

    ids = [edge["node"]["id"] for edge in first["edges"] + rest["edges"]]
    assert len(ids) == len(set(ids))
    assert first["pageInfo"]["hasNextPage"] is True
