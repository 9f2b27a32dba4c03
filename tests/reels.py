"""Reels and video stories through the API, as a client makes them: the upload, the
mutation, and the wait for the video job (the server's worker) to finish."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.client import Account, GraphQLClient
from tests.videos import mp4

CLIP = mp4(1.0, 320, 240)  # a second of H.264/AAC: transcoded in a few tens of milliseconds
PROCESSED_SECONDS = 30  # only bounds a failing test: the job takes well under a second
POLL_SECONDS = 0.05
CREATE_REEL = """mutation ($upload: ID!, $caption: String, $cmid: String) {
  createReel(input: {uploadId: $upload, caption: $caption, clientMutationId: $cmid}) {
    reel { id status video { url } } errors { code field message } } }"""
REEL_NODE = """query ($id: ID!) { node(id: $id) { ... on Reel { id status failureReason caption
  viewCount likeCount commentCount posterUrl video { url durationSeconds width height } } } }"""
STORY_NODE = """query ($id: ID!) { node(id: $id) { ... on Story { id status failureReason
  media { type url posterUrl width height } } } }"""


async def create_reel(
    graphql: GraphQLClient,
    author: Account,
    data: bytes = CLIP,
    caption: str = "",
    content_type: str = "video/mp4",
    **variables: Any,
) -> dict[str, Any]:
    """The createReel payload for a new upload of `data`."""
    upload = await graphql.upload(author, data, content_type)
    found = await graphql.data(
        CREATE_REEL, {"upload": upload, "caption": caption, **variables}, token=author.token
    )
    payload: dict[str, Any] = found["createReel"]
    return payload


async def until_processed(
    graphql: GraphQLClient, author: Account, node_id: str, query: str = REEL_NODE
) -> dict[str, Any]:
    """The reel or story, as its author sees it, once it is no longer PROCESSING."""
    for _ in range(int(PROCESSED_SECONDS / POLL_SECONDS)):
        node: dict[str, Any] = (await graphql.data(query, {"id": node_id}, token=author.token))[
            "node"
        ]
        if node["status"] != "PROCESSING":
            return node
        await asyncio.sleep(POLL_SECONDS)
    pytest.fail(f"{node_id} was still PROCESSING after {PROCESSED_SECONDS} s")


async def ready_reel(
    graphql: GraphQLClient, author: Account, data: bytes = CLIP, caption: str = ""
) -> dict[str, Any]:
    payload = await create_reel(graphql, author, data, caption)
    assert payload["errors"] == [], payload["errors"]
    reel = await until_processed(graphql, author, payload["reel"]["id"])
    assert reel["status"] == "READY", reel
    return reel
