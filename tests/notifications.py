"""Reading notifications through the API, for tests of the job that writes them.

The worker writes notifications after the mutation has responded, so a test waits for the
one it expects. To show that one was NOT written, a test waits for a later one instead: the
server's worker does its jobs in the order they were queued, so once a later job's
notification is there, the earlier job is done too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.client import Account, GraphQLClient

WAIT_SECONDS = 20  # only bounds a failing test: the worker takes a job within milliseconds
POLL_SECONDS = 0.02

NOTIFICATIONS = """query ($first: Int, $after: String) {
  notifications(first: $first, after: $after) {
    edges { cursor node { id kind createdAt read actorCount actors { id username }
                          post { id } comment { id text } message { id text } } }
    pageInfo { hasNextPage endCursor } }
  unreadNotificationCount }"""
MARK_READ = "mutation { markNotificationsRead { ok errors { code field message } } }"
LIKE = "mutation ($id: ID!) { likePost(postId: $id) { errors { code } } }"
UNLIKE = "mutation ($id: ID!) { unlikePost(postId: $id) { errors { code } } }"
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state errors { code } } }"
UNFOLLOW = "mutation ($id: ID!) { unfollowUser(userId: $id) { state errors { code } } }"
RESPOND = """mutation ($id: ID!, $approve: Boolean!) {
  respondToFollowRequest(userId: $id, approve: $approve) { state errors { code } } }"""
BLOCK = "mutation ($id: ID!) { blockUser(userId: $id) { ok errors { code } } }"
ADD_COMMENT = """mutation ($post: ID!, $text: String!) {
  addComment(input: {postId: $post, text: $text}) { comment { id } errors { code } } }"""
SEND = """mutation ($to: [ID!]!, $text: String!, $client: String!) {
  sendMessage(input: {recipientIds: $to, text: $text, clientId: $client}) {
    message { id } errors { code } } }"""

Node = dict[str, Any]


async def notification_page(
    graphql: GraphQLClient, account: Account, **variables: Any
) -> dict[str, Any]:
    """The account's first page of notifications (`notifications`) and unread count."""
    data = await graphql.data(NOTIFICATIONS, variables, token=account.token)
    return data


async def notification_nodes(graphql: GraphQLClient, account: Account) -> list[Node]:
    page = await notification_page(graphql, account, first=100)
    return [edge["node"] for edge in page["notifications"]["edges"]]


async def until_notified(
    graphql: GraphQLClient, account: Account, wanted: Callable[[list[Node]], bool]
) -> list[Node]:
    """The account's notifications, once `wanted` holds of them."""
    nodes: list[Node] = []
    for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
        nodes = await notification_nodes(graphql, account)
        if wanted(nodes):
            return nodes
        await asyncio.sleep(POLL_SECONDS)
    pytest.fail(f"{account.username}'s notifications never got there: {nodes}")


def of_kind(kind: str, **about: str) -> Callable[[list[Node]], bool]:
    """Holds when a notification of `kind` is there, about the given post or comment id."""

    def wanted(nodes: list[Node]) -> bool:
        return any(
            node["kind"] == kind
            and all((node[name] or {}).get("id") == value for name, value in about.items())
            for node in nodes
        )

    return wanted


def only(kind: str, nodes: list[Node]) -> Node:
    [node] = [node for node in nodes if node["kind"] == kind]
    return node


async def once_jobs_so_far_are_done(graphql: GraphQLClient, account: Account) -> list[Node]:
    """The account's notifications once every job queued so far is done: a new account
    follows it, and the wait is for that follow's notification (left out of the result)."""
    witness = await graphql.sign_up("witness")
    await graphql.data(FOLLOW, {"id": account.id}, token=witness.token)

    def told(nodes: list[Node]) -> bool:
        return any(actor["id"] == witness.id for node in nodes for actor in node["actors"])

    nodes = await until_notified(graphql, account, told)
    return [node for node in nodes if witness.id not in {a["id"] for a in node["actors"]}]
