"""Page sizes, for every list in the schema: an omitted `first` and an explicit null get the
same page, of the size the field declares; `first: 0` is refused (BAD_USER_INPUT), never an
empty page that claims more without a cursor to reach it.

The lists are the schema's own (every field that takes `first`); a list added without a case
here fails `test_every_list_in_the_schema_has_a_case`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLObjectType

from schema import build_schema
from tests.client import Account, GraphQLClient
from tests.media import jpeg
from tests.notifications import until_notified
from tests.reels import ready_reel

SCHEMA = build_schema(mask_errors=False)._schema
PAGE = "edges { cursor } pageInfo { hasNextPage endCursor }"
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { errors { code } } }"
SEND = """mutation ($to: [ID!], $thread: ID, $client: String!) {
  sendMessage(input: {recipientIds: $to, threadId: $thread, text: "hi", clientId: $client}) {
    message { thread { id } } errors { code } } }"""
CREATE_STORY = """mutation ($upload: ID!) { createStory(input: {uploadId: $upload}) {
  story { id } errors { code } } }"""
SEEN = "mutation ($id: ID!) { markStorySeen(storyId: $id) { errors { code } } }"
ADD_COMMENT = """mutation ($post: ID!, $text: String!, $reply: ID) {
  addComment(input: {postId: $post, text: $text, replyToId: $reply}) {
    comment { id } errors { code } } }"""


def declared_page_sizes() -> dict[str, int]:
    """`Type.field` of every list that takes `first`, and the default it declares."""
    return {
        f"{type_name}.{field_name}": field.args["first"].default_value
        for type_name, named in sorted(SCHEMA.type_map.items())
        if isinstance(named, GraphQLObjectType) and not type_name.startswith("__")
        for field_name, field in named.fields.items()
        if "first" in field.args
    }


# More rows in every list than the largest default, so each page is cut at its default.
ROWS = max(declared_page_sizes().values()) + 1
# Reels are transcoded one by one: one more than the reels stream's default is enough.
REELS = declared_page_sizes()["Query.reels"] + 1


@dataclass(frozen=True)
class Lists:
    """Accounts and content with ROWS entries in every list."""

    prefix: str  # every username here starts with it, and every post has it as a hashtag
    star: Account  # ROWS posts, ROWS followers (notifications), follows ROWS accounts
    owner: Account  # private, with ROWS pending requests
    reader: Account  # follows the star: a feed of the star's posts
    explorer: Account  # follows nobody: the star's posts are strangers' posts to explore
    post_id: str  # ROWS comments
    comment_id: str  # ROWS replies
    thread_id: str  # the star's thread with a fan: ROWS messages; the star has ROWS threads
    story_id: str  # the star's, seen by ROWS fans
    reel_id: str  # the star's (one of REELS, all READY), with ROWS comments


@dataclass(frozen=True)
class Case:
    query: str  # with `$first: Int`, and the list selected as `list`
    variables: Callable[[Lists], dict[str, Any]]
    token: Callable[[Lists], Account]
    path: tuple[str, ...]  # from `data` to the list


USER_LIST = "query ($first: Int, $u: String!) {{ user(username: $u) {{ list: {field}(first: $first) {{ {page} }} }} }}"
NODE_LIST = "query ($first: Int, $id: ID!) {{ node(id: $id) {{ ... on {type} {{ list: {field}(first: $first) {{ {page} }} }} }} }}"


def user_list(field: str) -> Case:
    return Case(
        USER_LIST.format(field=field, page=PAGE),
        lambda lists: {"u": lists.star.username},
        lambda lists: lists.explorer,
        ("user", "list"),
    )


CASES: dict[str, Case] = {
    "Query.feed": Case(
        f"query ($first: Int) {{ list: feed(first: $first) {{ {PAGE} }} }}",
        lambda lists: {},
        lambda lists: lists.reader,
        ("list",),
    ),
    "Query.explore": Case(
        f"query ($first: Int) {{ list: explore(first: $first) {{ {PAGE} }} }}",
        lambda lists: {},
        lambda lists: lists.explorer,
        ("list",),
    ),
    "Query.followRequests": Case(
        f"query ($first: Int) {{ list: followRequests(first: $first) {{ {PAGE} }} }}",
        lambda lists: {},
        lambda lists: lists.owner,
        ("list",),
    ),
    "Query.searchUsers": Case(
        f"query ($first: Int, $q: String!) {{ list: searchUsers(query: $q, first: $first) {{ {PAGE} }} }}",
        lambda lists: {"q": lists.prefix},
        lambda lists: lists.explorer,
        ("list",),
    ),
    "User.followers": user_list("followers"),
    "User.following": user_list("following"),
    "User.posts": user_list("posts"),
    "Hashtag.posts": Case(
        f"query ($first: Int, $tag: String!) {{ hashtag(name: $tag) {{ list: posts(first: $first) {{ {PAGE} }} }} }}",
        lambda lists: {"tag": lists.prefix},
        lambda lists: lists.explorer,
        ("hashtag", "list"),
    ),
    "Post.comments": Case(
        NODE_LIST.format(type="Post", field="comments", page=PAGE),
        lambda lists: {"id": lists.post_id},
        lambda lists: lists.explorer,
        ("node", "list"),
    ),
    "Comment.replies": Case(
        NODE_LIST.format(type="Comment", field="replies", page=PAGE),
        lambda lists: {"id": lists.comment_id},
        lambda lists: lists.explorer,
        ("node", "list"),
    ),
    "Query.threads": Case(
        f"query ($first: Int) {{ list: threads(first: $first) {{ {PAGE} }} }}",
        lambda lists: {},
        lambda lists: lists.star,
        ("list",),
    ),
    "Query.notifications": Case(
        f"query ($first: Int) {{ list: notifications(first: $first) {{ {PAGE} }} }}",
        lambda lists: {},
        lambda lists: lists.star,
        ("list",),
    ),
    "Thread.messages": Case(
        NODE_LIST.format(type="Thread", field="messages", page=PAGE),
        lambda lists: {"id": lists.thread_id},
        lambda lists: lists.star,
        ("node", "list"),
    ),
    "Story.viewers": Case(
        NODE_LIST.format(type="Story", field="viewers", page=PAGE),
        lambda lists: {"id": lists.story_id},
        lambda lists: lists.star,
        ("node", "list"),
    ),
    "Query.reels": Case(
        f"query ($first: Int) {{ list: reels(first: $first) {{ {PAGE} }} }}",
        lambda lists: {},
        lambda lists: lists.explorer,
        ("list",),
    ),
    "Reel.comments": Case(
        NODE_LIST.format(type="Reel", field="comments", page=PAGE),
        lambda lists: {"id": lists.reel_id},
        lambda lists: lists.explorer,
        ("node", "list"),
    ),
}  # fmt: skip


async def comment(
    graphql: GraphQLClient, author: Account, post_id: str, reply_to: str | None = None
) -> str:
    data = await graphql.data(
        ADD_COMMENT, {"post": post_id, "text": "hi", "reply": reply_to}, token=author.token
    )
    comment_id: str = data["addComment"]["comment"]["id"]
    return comment_id


async def send(graphql: GraphQLClient, sender: Account, **target: Any) -> str:
    variables = {"to": None, "thread": None, "client": uuid.uuid4().hex, **target}
    data = await graphql.data(SEND, variables, token=sender.token)
    assert data["sendMessage"]["errors"] == []
    thread_id: str = data["sendMessage"]["message"]["thread"]["id"]
    return thread_id


async def follow(graphql: GraphQLClient, follower: Account, followee: Account) -> None:
    data = await graphql.data(FOLLOW, {"id": followee.id}, token=follower.token)
    assert data["followUser"]["errors"] == []


@pytest.fixture(scope="module")
async def lists(graphql: GraphQLClient) -> Lists:
    prefix = f"pages{uuid.uuid4().hex[:8]}"
    star, owner, reader, explorer = (
        await graphql.sign_up(prefix),
        await graphql.sign_up(private=True),
        await graphql.sign_up(),
        await graphql.sign_up(),
    )
    fans = list(await asyncio.gather(*(graphql.sign_up(prefix) for _ in range(ROWS))))
    for fan in fans:
        await asyncio.gather(
            follow(graphql, fan, star), follow(graphql, fan, owner), follow(graphql, star, fan)
        )
    post_ids = []
    for _ in range(ROWS):
        payload = await graphql.create_post(star, [jpeg(16, 16)], f"#{prefix}")
        post_ids.append(payload["post"]["id"])
    await follow(graphql, reader, star)
    post_id = post_ids[0]
    comment_id = await comment(graphql, star, post_id)
    for _ in range(ROWS - 1):
        await comment(graphql, star, post_id)
    for _ in range(ROWS):
        await comment(graphql, star, post_id, reply_to=comment_id)
    thread_ids = [await send(graphql, star, to=[fan.id]) for fan in fans]
    for _ in range(ROWS - 1):
        await send(graphql, star, thread=thread_ids[0])
    # The worker writes the star's notifications of its ROWS followers after each follow.
    await until_notified(graphql, star, lambda nodes: len(nodes) >= ROWS)
    upload_id = await graphql.upload(star, jpeg(16, 16))
    story = await graphql.data(CREATE_STORY, {"upload": upload_id}, token=star.token)
    story_id = story["createStory"]["story"]["id"]
    for fan in fans:
        await graphql.data(SEEN, {"id": story_id}, token=fan.token)
    reel_ids = [(await ready_reel(graphql, star))["id"] for _ in range(REELS)]
    for _ in range(ROWS):
        await comment(graphql, star, reel_ids[0])
    return Lists(
        prefix, star, owner, reader, explorer, post_id, comment_id, thread_ids[0], story_id,
        reel_ids[0],
    )  # fmt: skip


async def page(
    graphql: GraphQLClient, lists: Lists, case: Case, first: dict[str, Any]
) -> dict[str, Any]:
    """The response to the case's query, with `first` as given (or not given at all)."""
    return await graphql.execute(
        case.query, {**case.variables(lists), **first}, token=case.token(lists).token
    )


def the_list(body: dict[str, Any], case: Case) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    found: Any = body["data"]
    for key in case.path:
        found = found[key]
    assert isinstance(found, dict), body
    return found


def test_every_list_in_the_schema_has_a_case() -> None:
    assert set(CASES) == set(declared_page_sizes())


@pytest.mark.parametrize("name", sorted(CASES))
async def test_an_omitted_first_gets_the_declared_page_size(
    graphql: GraphQLClient, lists: Lists, name: str
) -> None:
    case = CASES[name]

    connection = the_list(await page(graphql, lists, case, {}), case)

    assert len(connection["edges"]) == declared_page_sizes()[name]


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_null_first_gets_the_same_page_as_an_omitted_one(
    graphql: GraphQLClient, lists: Lists, name: str
) -> None:
    case = CASES[name]

    connection = the_list(await page(graphql, lists, case, {"first": None}), case)

    assert len(connection["edges"]) == declared_page_sizes()[name]


@pytest.mark.parametrize("name", sorted(CASES))
async def test_first_zero_is_bad_user_input(
    graphql: GraphQLClient, lists: Lists, name: str
) -> None:
    body = await page(graphql, lists, CASES[name], {"first": 0})

    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "`first`" in error["message"]
