"""Every hostile shape of tests/hostile.py gets its answer: 413 for what is too large to
read, 400 for what is not a GraphQL request, BAD_USER_INPUT for what is over a bound, and
never a 5xx. Each runs against the real server, anonymous: were a resolver to run on the
refused mutations, they would answer UNAUTHENTICATED instead."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.client import GraphQLClient
from tests.hostile import HOSTILE_SHAPES, HostileShape, prepare


@pytest.fixture(scope="module")
async def target(graphql: GraphQLClient) -> httpx.AsyncClient:
    await prepare(graphql.http)
    return graphql.http


@pytest.mark.parametrize("shape", HOSTILE_SHAPES, ids=lambda shape: shape.name)
async def test_a_hostile_request_gets_its_answer(
    target: httpx.AsyncClient, shape: HostileShape
) -> None:
    answer = await shape.send(target)

    assert answer.status == shape.status, answer.body[:300]
    if shape.code is not None:
        errors = json.loads(answer.body)["errors"]
        assert [error["extensions"]["code"] for error in errors] == [shape.code]
