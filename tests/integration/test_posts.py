"""Posts: captions, hashtags, mentions, idempotent creation, deletion and who sees them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resolvers.ids import MAX_RETRY_KEY_LENGTH
from tests.client import Account, GraphQLClient
from tests.media import decoded, jpeg

POST = "query ($id: ID!) { node(id: $id) { ... on Post { id caption author { username } } } }"
DELETE = "mutation ($id: ID!) { deletePost(postId: $id) { ok errors { code field } } }"
HASHTAG = """query ($name: String!) { hashtag(name: $name) { name postCount
  posts { edges { node { id } } pageInfo { hasNextPage } } } }"""
PROFILE_POSTS = """query ($u: String!, $first: Int, $after: String) { user(username: $u) { postCount
  posts(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }"""
PHOTO = jpeg(400, 300)


async def new_post(graphql: GraphQLClient, account: Account, caption: str = "") -> Any:
    payload = await graphql.create_post(account, [PHOTO], caption)
    assert payload["errors"] == [], payload["errors"]
    return payload["post"]


async def test_a_post_carries_up_to_ten_photos_in_order(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()

    payload = await graphql.create_post(account, [jpeg(300, 300), jpeg(600, 300)], "two")

    assert [(m["width"], m["height"]) for m in payload["post"]["media"]] == [(300, 300), (600, 300)]


async def test_hashtags_and_mentions_are_parsed_from_the_caption(graphql: GraphQLClient) -> None:
    author, friend = await graphql.sign_up(), await graphql.sign_up()

    post = await new_post(
        graphql, author, f"Sunset #Beach #beach #travel with @{friend.username} and @nobody_zz9"
    )

    assert post["hashtags"] == ["beach", "travel"]
    assert post["mentions"] == [{"username": friend.username}]


async def test_a_hashtag_lists_its_posts_newest_first(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    tag = f"tag{author.username[-6:]}"
    older = await new_post(graphql, author, f"#{tag}")
    newer = await new_post(graphql, author, f"#{tag.upper()}")

    hashtag = (await graphql.data(HASHTAG, {"name": f"#{tag}"}))["hashtag"]

    assert hashtag["postCount"] == 2
    assert [e["node"]["id"] for e in hashtag["posts"]["edges"]] == [newer["id"], older["id"]]


async def test_a_hashtag_page_reads_past_posts_the_viewer_may_not_see(
    graphql: GraphQLClient,
) -> None:
    """Given the newest post under a hashtag is by an account that blocked the viewer, when
    the viewer asks for one post, then the newest visible one comes."""
    author, blocker, viewer = [await graphql.sign_up() for _ in range(3)]
    tag = f"tag{author.username[-6:]}"
    visible = await new_post(graphql, author, f"#{tag}")
    await new_post(graphql, blocker, f"#{tag}")
    await graphql.data(
        "mutation ($id: ID!) { blockUser(userId: $id) { ok } }",
        {"id": viewer.id},
        token=blocker.token,
    )
    query = HASHTAG.replace("posts {", "posts(first: 1) {")

    posts = (await graphql.data(query, {"name": tag}, token=viewer.token))["hashtag"]["posts"]

    assert [e["node"]["id"] for e in posts["edges"]] == [visible["id"]]
    assert posts["pageInfo"]["hasNextPage"] is False


async def test_an_unused_hashtag_is_null(graphql: GraphQLClient) -> None:
    assert (await graphql.data(HASHTAG, {"name": "never_used_anywhere_xyz"}))["hashtag"] is None


async def test_a_retried_create_post_returns_the_first_post(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    first = await graphql.create_post(author, [PHOTO], "once", client_mutation_id="abc-1")

    retry = await graphql.create_post(author, [PHOTO], "once", client_mutation_id="abc-1")

    assert retry["post"]["id"] == first["post"]["id"]
    assert (await graphql.data(PROFILE_POSTS, {"u": author.username}))["user"]["postCount"] == 1


@pytest.mark.parametrize(
    ("images", "caption", "field"),
    [
        (0, "", "uploadIds"),
        (11, "", "uploadIds"),
        (1, "x" * 2_201, "caption"),
    ],
)
async def test_create_post_refuses_bad_input_and_writes_nothing(
    graphql: GraphQLClient, images: int, caption: str, field: str
) -> None:
    author = await graphql.sign_up()
    upload_ids = [await graphql.upload(author, PHOTO) for _ in range(images)]

    data = await graphql.data(
        "mutation ($ids: [ID!]!, $c: String) { createPost(input: {uploadIds: $ids, caption: $c}) { post { id } errors { code field } } }",
        {"ids": upload_ids, "c": caption},
        token=author.token,
    )

    assert data["createPost"] == {"post": None, "errors": [{"code": "INVALID", "field": field}]}
    assert (await graphql.data(PROFILE_POSTS, {"u": author.username}))["user"]["postCount"] == 0


async def test_profile_posts_page_newest_first_by_cursor(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    posts = [await new_post(graphql, author) for _ in range(3)]

    first = (await graphql.data(PROFILE_POSTS, {"u": author.username, "first": 2}))["user"]
    rest = (
        await graphql.data(
            PROFILE_POSTS,
            {"u": author.username, "first": 2, "after": first["posts"]["pageInfo"]["endCursor"]},
        )
    )["user"]

    ids = [e["node"]["id"] for e in first["posts"]["edges"] + rest["posts"]["edges"]]
    assert ids == [post["id"] for post in reversed(posts)]
    assert (
        first["posts"]["pageInfo"]["hasNextPage"],
        rest["posts"]["pageInfo"]["hasNextPage"],
    ) == (True, False)
    assert first["postCount"] == 3


async def test_a_private_accounts_posts_are_hidden_from_strangers(graphql: GraphQLClient) -> None:
    owner, stranger = await graphql.sign_up(private=True), await graphql.sign_up()
    post = await new_post(graphql, owner)

    profile = (await graphql.data(PROFILE_POSTS, {"u": owner.username}, token=stranger.token))[
        "user"
    ]

    assert profile["posts"]["edges"] == []
    assert profile["postCount"] == 1  # counts stay public, as on Instagram
    assert (await graphql.data(POST, {"id": post["id"]}, token=stranger.token))["node"] is None
    assert (await graphql.data(POST, {"id": post["id"]}, token=owner.token))["node"]["id"] == post[
        "id"
    ]


async def test_the_author_deletes_a_post_from_every_read_path(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    tag = f"gone{author.username[-6:]}"
    post = await new_post(graphql, author, f"#{tag}")

    payload = (await graphql.data(DELETE, {"id": post["id"]}, token=author.token))["deletePost"]

    assert payload == {"ok": True, "errors": []}
    assert (await graphql.data(POST, {"id": post["id"]}))["node"] is None
    profile = (await graphql.data(PROFILE_POSTS, {"u": author.username}))["user"]
    assert (profile["postCount"], profile["posts"]["edges"]) == (0, [])
    assert (await graphql.data(HASHTAG, {"name": tag}))["hashtag"]["postCount"] == 0


async def test_only_the_author_may_delete_a_post(graphql: GraphQLClient) -> None:
    author, other = await graphql.sign_up(), await graphql.sign_up()
    post = await new_post(graphql, author)

    payload = (await graphql.data(DELETE, {"id": post["id"]}, token=other.token))["deletePost"]

    assert payload == {"ok": False, "errors": [{"code": "FORBIDDEN", "field": "postId"}]}
    assert (await graphql.data(POST, {"id": post["id"]}))["node"] is not None


async def test_deleting_a_deleted_post_is_not_found(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    post = await new_post(graphql, author)
    await graphql.data(DELETE, {"id": post["id"]}, token=author.token)

    payload = (await graphql.data(DELETE, {"id": post["id"]}, token=author.token))["deletePost"]

    assert payload["errors"] == [{"code": "NOT_FOUND", "field": "postId"}]
    assert (await graphql.data(PROFILE_POSTS, {"u": author.username}))["user"]["postCount"] == 0


async def test_an_avatar_upload_becomes_a_square_avatar(media_graphql: GraphQLClient) -> None:
    account = await media_graphql.sign_up()
    upload_id = await media_graphql.upload(account, jpeg(900, 600))

    data = await media_graphql.data(
        "mutation ($id: ID) { updateProfile(input: {avatarUploadId: $id}) { user { avatarUrl } errors { field } } }",
        {"id": upload_id},
        token=account.token,
    )

    async with httpx.AsyncClient() as http:
        avatar = decoded((await http.get(data["updateProfile"]["user"]["avatarUrl"])).content)
    assert avatar.size == (320, 320)


async def test_an_over_long_client_mutation_id_is_refused_and_writes_nothing(
    graphql: GraphQLClient,
) -> None:
    author = await graphql.sign_up()

    refused = await graphql.create_post(
        author, [jpeg(64, 64)], client_mutation_id="k" * (MAX_RETRY_KEY_LENGTH + 1)
    )

    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID", "clientMutationId")]
    assert refused["post"] is None
    profile = await graphql.data(
        "query ($u: String!) { user(username: $u) { postCount } }", {"u": author.username}
    )
    assert profile["user"]["postCount"] == 0
