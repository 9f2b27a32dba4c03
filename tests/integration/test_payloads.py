"""What mutation payloads carry by convention (README, "API conventions"): `errors` on
every one, the deleted id on a delete, the new state on a state change."""

from __future__ import annotations

from typing import Any

from tests.client import Account, GraphQLClient
from tests.media import jpeg

LOG_OUT = "mutation { logOut { ok errors { code field message } } }"
DELETE_POST = """mutation ($id: ID!) { deletePost(postId: $id) {
  ok deletedId errors { code field } } }"""
DELETE_COMMENT = """mutation ($id: ID!) { deleteComment(commentId: $id) {
  ok deletedId errors { code field } } }"""
ADD_COMMENT = """mutation ($post: ID!, $text: String!) {
  addComment(input: {postId: $post, text: $text}) { comment { id } errors { code } } }"""
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state errors { code } } }"
RESPOND = """mutation ($id: ID!, $approve: Boolean!) {
  respondToFollowRequest(userId: $id, approve: $approve) {
    state user { id } errors { code field } } }"""


async def new_post(graphql: GraphQLClient, author: Account) -> str:
    payload = await graphql.create_post(author, [jpeg(32, 32)])
    assert payload["errors"] == [], payload["errors"]
    post_id: str = payload["post"]["id"]
    return post_id


async def new_comment(graphql: GraphQLClient, author: Account, post_id: str) -> str:
    data = await graphql.data(ADD_COMMENT, {"post": post_id, "text": "hi"}, token=author.token)
    comment_id: str = data["addComment"]["comment"]["id"]
    return comment_id


async def requested_by(graphql: GraphQLClient, owner: Account) -> Account:
    """A new account that asked to follow the private `owner`."""
    fan = await graphql.sign_up()
    data = await graphql.data(FOLLOW, {"id": owner.id}, token=fan.token)
    assert data["followUser"]["state"] == "REQUESTED"
    return fan


async def respond(graphql: GraphQLClient, owner: Account, fan: Account, approve: bool) -> Any:
    data = await graphql.data(RESPOND, {"id": fan.id, "approve": approve}, token=owner.token)
    return data["respondToFollowRequest"]


async def test_log_out_returns_ok_and_no_errors(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()

    data = await graphql.data(LOG_OUT, token=account.token)

    assert data["logOut"] == {"ok": True, "errors": []}


async def test_deleting_a_post_returns_its_id(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    post_id = await new_post(graphql, author)

    data = await graphql.data(DELETE_POST, {"id": post_id}, token=author.token)

    assert data["deletePost"] == {"ok": True, "deletedId": post_id, "errors": []}


async def test_a_refused_post_delete_returns_no_deleted_id(graphql: GraphQLClient) -> None:
    author, other = await graphql.sign_up(), await graphql.sign_up()
    post_id = await new_post(graphql, author)

    data = await graphql.data(DELETE_POST, {"id": post_id}, token=other.token)

    assert data["deletePost"] == {
        "ok": False,
        "deletedId": None,
        "errors": [{"code": "FORBIDDEN", "field": "postId"}],
    }


async def test_deleting_a_comment_returns_its_id(graphql: GraphQLClient) -> None:
    author = await graphql.sign_up()
    comment_id = await new_comment(graphql, author, await new_post(graphql, author))

    data = await graphql.data(DELETE_COMMENT, {"id": comment_id}, token=author.token)

    assert data["deleteComment"] == {"ok": True, "deletedId": comment_id, "errors": []}


async def test_a_refused_comment_delete_returns_no_deleted_id(graphql: GraphQLClient) -> None:
    author, other = await graphql.sign_up(), await graphql.sign_up()
    comment_id = await new_comment(graphql, author, await new_post(graphql, author))

    data = await graphql.data(DELETE_COMMENT, {"id": comment_id}, token=other.token)

    assert data["deleteComment"] == {
        "ok": False,
        "deletedId": None,
        "errors": [{"code": "FORBIDDEN", "field": "commentId"}],
    }


async def test_approving_a_follow_request_returns_the_state_following(
    graphql: GraphQLClient,
) -> None:
    owner = await graphql.sign_up(private=True)
    fan = await requested_by(graphql, owner)

    payload = await respond(graphql, owner, fan, approve=True)

    assert payload == {"state": "FOLLOWING", "user": {"id": fan.id}, "errors": []}


async def test_declining_a_follow_request_returns_the_state_none(graphql: GraphQLClient) -> None:
    owner = await graphql.sign_up(private=True)
    fan = await requested_by(graphql, owner)

    payload = await respond(graphql, owner, fan, approve=False)

    assert payload == {"state": "NONE", "user": {"id": fan.id}, "errors": []}


async def test_answering_no_request_returns_no_state(graphql: GraphQLClient) -> None:
    owner, stranger = await graphql.sign_up(private=True), await graphql.sign_up()

    payload = await respond(graphql, owner, stranger, approve=True)

    assert payload == {
        "state": None,
        "user": None,
        "errors": [{"code": "NOT_FOUND", "field": "userId"}],
    }
