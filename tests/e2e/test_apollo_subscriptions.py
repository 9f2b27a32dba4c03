"""The realtime contract as frontends run it: Apollo Client 3 with a split link, graphql-ws
(and `ws`) for subscriptions, HttpLink for queries and mutations, all against the server.
Each subscription is the contract's, started, then triggered by another user's mutation."""

from __future__ import annotations

from tests.client import GraphQLClient
from tests.contract import operation_source
from tests.e2e.node_tools import run_realtime_client
from tests.media import jpeg


async def test_apollo_runs_a_query_a_mutation_and_each_subscription(
    graphql: GraphQLClient, server_url: str
) -> None:
    # Given a viewer with a post, and a fan
    viewer, fan = await graphql.sign_up(), await graphql.sign_up()
    created = await graphql.create_post(viewer, [jpeg(64, 48)])
    post_id = created["post"]["id"]
    like = {"document": operation_source("LikePost"), "variables": {"postId": post_id}}
    unlike = {"document": operation_source("UnlikePost"), "variables": {"postId": post_id}}
    comment = {
        "document": operation_source("AddComment"),
        "variables": {"postId": post_id, "text": "from node"},
    }
    message = {
        "document": operation_source("SendMessage"),
        "variables": {"recipientIds": [viewer.id], "text": "from node", "clientId": "<fresh>"},
    }
    # When Apollo queries, mutates, and subscribes to each subscription of the contract
    query, mutation, liked, commented, received, notified = await run_realtime_client(
        f"{server_url}/graphql",
        {
            "token": viewer.token,
            "query": {"document": operation_source("Viewer")},
            "mutation": {
                "document": operation_source("UpdateProfile"),
                "variables": {"displayName": "Node"},
            },
            "subscriptions": [
                {
                    "name": "PostLiked",
                    "document": operation_source("PostLiked"),
                    "variables": {"postId": post_id},
                    # Unliked first, so that each round's like is a new one, which is pushed
                    "trigger": [{**unlike, "token": fan.token}, {**like, "token": fan.token}],
                },
                {
                    "name": "CommentAdded",
                    "document": operation_source("CommentAdded"),
                    "variables": {"postId": post_id},
                    "trigger": [{**comment, "token": fan.token}],
                },
                {
                    "name": "MessageReceived",
                    "document": operation_source("MessageReceived"),
                    "trigger": [{**message, "token": fan.token}],
                },
                {
                    "name": "NotificationReceived",
                    "document": operation_source("NotificationReceived"),
                    # Each comment is a new COMMENT notification, written by the worker
                    "trigger": [{**comment, "token": fan.token}],
                },
            ],
        },
    )
    # Then the query and the mutation answered over HTTP
    assert query.error is None and query.result is not None, query
    assert query.result["data"]["viewer"]["id"] == viewer.id
    assert mutation.error is None and mutation.result is not None, mutation
    assert mutation.result["data"]["updateProfile"]["user"]["displayName"] == "Node"
    # And each subscription pushed what the fan did, over graphql-ws
    for outcome in (liked, commented, received, notified):
        assert outcome.error is None and outcome.result is not None, outcome
        assert "errors" not in outcome.result, outcome
    assert liked.result is not None and commented.result is not None
    assert received.result is not None and notified.result is not None
    assert liked.result["data"]["postLiked"]["user"]["id"] == fan.id
    assert liked.result["data"]["postLiked"]["post"]["likeCount"] == 1
    assert commented.result["data"]["commentAdded"]["text"] == "from node"
    assert commented.result["data"]["commentAdded"]["author"]["id"] == fan.id
    pushed = received.result["data"]["messageReceived"]
    assert (pushed["text"], pushed["sender"]["id"]) == ("from node", fan.id)
    told = notified.result["data"]["notificationReceived"]
    assert (told["kind"], told["actors"][0]["id"]) == ("COMMENT", fan.id)
    assert told["post"]["id"] == post_id  # Apollo adds __typename to what it caches
