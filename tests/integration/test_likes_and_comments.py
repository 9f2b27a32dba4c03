"""Likes and comments: idempotent, exact under concurrency, and hidden where they must be."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.client import Account, GraphQLClient
from tests.media import jpeg

LIKE = "mutation ($id: ID!) { likePost(postId: $id) { post { likeCount viewerHasLiked } errors { code field } } }"
UNLIKE = "mutation ($id: ID!) { unlikePost(postId: $id) { post { likeCount viewerHasLiked } errors { code field } } }"
LIKED = "query ($id: ID!) { node(id: $id) { ... on Post { viewerHasLiked } } }"
COMMENT = """mutation ($post: ID!, $text: String!, $reply: ID) {
  addComment(input: {postId: $post, text: $text, replyToId: $reply}) {
    comment { id text replyTo { id } } errors { code field } } }"""
DELETE_COMMENT = (
    "mutation ($id: ID!) { deleteComment(commentId: $id) { ok errors { code field } } }"
)
COMMENTS = """query ($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Post { commentCount likeCount
  comments(first: $first, after: $after) { edges { node { id text replyCount
    replies { edges { node { id } } } } } pageInfo { hasNextPage endCursor } } } } }"""


async def new_post(graphql: GraphQLClient, author: Account) -> str:
    payload = await graphql.create_post(author, [jpeg(200, 200)])
    post_id: str = payload["post"]["id"]
    return post_id


async def comment(
    graphql: GraphQLClient, account: Account, post_id: str, text: str, reply: str | None = None
) -> Any:
    data = await graphql.data(
        COMMENT, {"post": post_id, "text": text, "reply": reply}, token=account.token
    )
    return data["addComment"]


async def post_view(
    graphql: GraphQLClient, post_id: str, viewer: Account | None = None, **args: Any
) -> Any:
    data = await graphql.data(
        COMMENTS, {"id": post_id, **args}, token=None if viewer is None else viewer.token
    )
    return data["node"]


async def test_liking_twice_leaves_one_like(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    await graphql.data(LIKE, {"id": post_id}, token=fan.token)

    payload = (await graphql.data(LIKE, {"id": post_id}, token=fan.token))["likePost"]

    assert payload == {"post": {"likeCount": 1, "viewerHasLiked": True}, "errors": []}


async def test_unliking_what_is_not_liked_is_not_an_error(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    await graphql.data(LIKE, {"id": post_id}, token=fan.token)
    await graphql.data(UNLIKE, {"id": post_id}, token=fan.token)

    payload = (await graphql.data(UNLIKE, {"id": post_id}, token=fan.token))["unlikePost"]

    assert payload == {"post": {"likeCount": 0, "viewerHasLiked": False}, "errors": []}


async def test_like_counts_stay_exact_under_concurrency(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    fans = [await graphql.sign_up() for _ in range(8)]
    post_id = await new_post(graphql, author)

    await asyncio.gather(
        *(
            graphql.data(mutation, {"id": post_id}, token=fan.token)
            for fan in fans
            for mutation in (LIKE, LIKE, UNLIKE, LIKE)
        )
    )

    liked = [
        (await graphql.data(LIKED, {"id": post_id}, token=fan.token))["node"]["viewerHasLiked"]
        for fan in fans
    ]
    assert (await post_view(graphql, post_id))["likeCount"] == sum(liked)


async def test_liking_a_post_one_may_not_see_is_not_found(graphql: GraphQLClient) -> None:
    owner, stranger = await graphql.sign_up(private=True), await graphql.sign_up()
    post_id = await new_post(graphql, owner)

    payload = (await graphql.data(LIKE, {"id": post_id}, token=stranger.token))["likePost"]

    assert payload == {"post": None, "errors": [{"code": "NOT_FOUND", "field": "postId"}]}
    assert (await post_view(graphql, post_id, owner))["likeCount"] == 0


async def test_liking_a_deleted_post_is_not_found(graphql: GraphQLClient) -> None:
    author, fan = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    await graphql.data(
        "mutation ($id: ID!) { deletePost(postId: $id) { ok } }",
        {"id": post_id},
        token=author.token,
    )

    payload = (await graphql.data(LIKE, {"id": post_id}, token=fan.token))["likePost"]

    assert payload["errors"] == [{"code": "NOT_FOUND", "field": "postId"}]


@pytest.mark.parametrize("post_id", ["nonsense", "UG9zdDox"])  # "Post:1": well-formed, absent
async def test_liking_a_bad_post_id_names_the_field(graphql: GraphQLClient, post_id: str) -> None:
    fan = await graphql.sign_up()

    payload = (await graphql.data(LIKE, {"id": post_id}, token=fan.token))["likePost"]

    assert payload["errors"][0]["field"] == "postId"


async def test_comments_come_oldest_first_with_a_preview_page(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    post_id = await new_post(graphql, author)
    ids = [(await comment(graphql, author, post_id, f"c{n}"))["comment"]["id"] for n in range(5)]

    preview = (await post_view(graphql, post_id, first=2))["comments"]
    rest = (await post_view(graphql, post_id, first=10, after=preview["pageInfo"]["endCursor"]))[
        "comments"
    ]

    assert [e["node"]["id"] for e in preview["edges"]] == ids[:2]
    assert preview["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in rest["edges"]] == ids[2:]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_a_reply_to_a_reply_joins_the_thread_of_the_comment(graphql: GraphQLClient) -> None:
    author, friend = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    top = (await comment(graphql, author, post_id, "top"))["comment"]
    reply = (await comment(graphql, friend, post_id, "reply", top["id"]))["comment"]

    nested = (await comment(graphql, author, post_id, "reply to reply", reply["id"]))["comment"]

    assert nested["replyTo"] == {"id": top["id"]}
    view = await post_view(graphql, post_id)
    assert view["commentCount"] == 3
    [thread] = view["comments"]["edges"]
    assert thread["node"]["replyCount"] == 2
    assert [e["node"]["id"] for e in thread["node"]["replies"]["edges"]] == [
        reply["id"],
        nested["id"],
    ]


async def test_deleting_a_comment_takes_its_replies_and_counts_with_it(
    graphql: GraphQLClient,
) -> None:
    author, friend = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)
    top = (await comment(graphql, friend, post_id, "top"))["comment"]
    await comment(graphql, author, post_id, "reply", top["id"])
    kept = (await comment(graphql, author, post_id, "kept"))["comment"]

    payload = (await graphql.data(DELETE_COMMENT, {"id": top["id"]}, token=author.token))[
        "deleteComment"
    ]

    assert payload == {"ok": True, "errors": []}
    view = await post_view(graphql, post_id, first=2)
    assert view["commentCount"] == 1
    assert [e["node"]["id"] for e in view["comments"]["edges"]] == [kept["id"]]


async def test_only_the_comment_or_post_author_may_delete_a_comment(graphql: GraphQLClient) -> None:
    author, commenter, stranger = [await graphql.sign_up() for _ in range(3)]
    post_id = await new_post(graphql, author)
    mine = (await comment(graphql, commenter, post_id, "mine"))["comment"]

    refused = (await graphql.data(DELETE_COMMENT, {"id": mine["id"]}, token=stranger.token))[
        "deleteComment"
    ]
    by_commenter = (await graphql.data(DELETE_COMMENT, {"id": mine["id"]}, token=commenter.token))[
        "deleteComment"
    ]

    assert refused == {"ok": False, "errors": [{"code": "FORBIDDEN", "field": "commentId"}]}
    assert by_commenter == {"ok": True, "errors": []}


@pytest.mark.parametrize("text", ["", "   ", "x" * 2_201])
async def test_a_comment_must_have_1_to_2200_characters(graphql: GraphQLClient, text: str) -> None:
    author = await graphql.sign_up()
    post_id = await new_post(graphql, author)

    payload = await comment(graphql, author, post_id, text)

    assert payload == {"comment": None, "errors": [{"code": "INVALID", "field": "text"}]}
    assert (await post_view(graphql, post_id))["commentCount"] == 0


async def test_a_reply_to_a_comment_on_another_post_is_not_found(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    first, second = await new_post(graphql, author), await new_post(graphql, author)
    elsewhere = (await comment(graphql, author, first, "here"))["comment"]

    payload = await comment(graphql, author, second, "there", elsewhere["id"])

    assert payload["errors"] == [{"code": "NOT_FOUND", "field": "replyToId"}]
    assert (await post_view(graphql, second))["commentCount"] == 0


async def test_comments_by_blocked_accounts_are_hidden(graphql: GraphQLClient) -> None:
    author, troll, reader = [await graphql.sign_up() for _ in range(3)]
    post_id = await new_post(graphql, author)
    await comment(graphql, troll, post_id, "troll")
    kind = (await comment(graphql, author, post_id, "kind"))["comment"]
    await graphql.data(
        "mutation ($id: ID!) { blockUser(userId: $id) { ok } }",
        {"id": troll.id},
        token=reader.token,
    )

    view = await post_view(graphql, post_id, reader, first=2)

    assert [e["node"]["id"] for e in view["comments"]["edges"]] == [kind["id"]]


async def test_a_page_of_comments_reads_past_hidden_ones(graphql: GraphQLClient) -> None:
    """Given the oldest comments are by an account the reader blocked, when the reader asks
    for the first comment, then the first visible one comes, with a cursor to go on from."""
    author, troll, reader = [await graphql.sign_up() for _ in range(3)]
    post_id = await new_post(graphql, author)
    for text in ("troll 1", "troll 2"):
        await comment(graphql, troll, post_id, text)
    kind = (await comment(graphql, author, post_id, "kind"))["comment"]
    await comment(graphql, author, post_id, "kinder")
    await graphql.data(
        "mutation ($id: ID!) { blockUser(userId: $id) { ok } }",
        {"id": troll.id},
        token=reader.token,
    )

    comments = (await post_view(graphql, post_id, reader, first=1))["comments"]

    assert [e["node"]["id"] for e in comments["edges"]] == [kind["id"]]
    assert comments["pageInfo"]["hasNextPage"] is True
    assert comments["pageInfo"]["endCursor"] is not None


async def test_comment_counts_stay_exact_under_concurrency(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    post_id = await new_post(graphql, author)

    await asyncio.gather(*(comment(graphql, author, post_id, f"c{n}") for n in range(12)))

    view = await post_view(graphql, post_id, first=100)
    assert view["commentCount"] == len(view["comments"]["edges"]) == 12
    preview = await post_view(graphql, post_id, first=2)
    assert [e["node"]["id"] for e in preview["comments"]["edges"]] == [
        e["node"]["id"] for e in view["comments"]["edges"][:2]
    ]
