"""A property-based run against the real server: operations generated from the schema
(hypothesis-graphql, valid and one-violation ones) and raw bodies of every shape get no
5xx, and the server logs no internal error.

Hypothesis drives a synchronous client in a thread of its own, since the server answers on
this test's event loop. Derandomized (no example database), so every run sends the same
requests; the sizes keep it to tens of seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from schema import build_schema
from tests.client import GraphQLClient

OPERATIONS = 400  # half valid, half with one schema violation
BODIES = 600  # half POSTed bodies, half GET query strings
SCHEMA = build_schema(mask_errors=False)._schema
# The loggers a server error reaches: uvicorn's for an exception out of the app (a 500),
# strawberry's for an internal error in a resolver (PictographSchema.process_errors).
ERROR_LOGGERS = ("uvicorn.error", "strawberry.execution")
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
request_members = st.fixed_dictionaries(
    {},
    optional={
        "query": st.one_of(st.text(max_size=50), from_schema(SCHEMA), json_values),
        "variables": json_values,
        "operationName": st.one_of(st.text(max_size=10), json_values),
        "extensions": json_values,
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: httpx.Request("POST", "/", json=value).content),
    request_members.map(lambda value: httpx.Request("POST", "/", json=value).content),
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=latin-1", "application/graphql-response+json",
     "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", ""]
)  # fmt: skip
accepts = st.sampled_from(["application/json", "application/graphql-response+json", "*/*", "text/html"])  # fmt: skip
query_params = st.dictionaries(
    st.sampled_from(["query", "variables", "operationName", "extensions"]),
    st.one_of(st.text(max_size=30), json_values.map(str)),
    max_size=4,
)


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    for name in ERROR_LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in ERROR_LOGGERS:
            logging.getLogger(name).removeHandler(handler)


def assert_handled(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.content[:500], response.text[:500])


def fuzz_operations(base_url: str, token: str) -> None:
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, timeout=30, headers=headers) as http:

        @settings(FUZZ_SETTINGS, max_examples=OPERATIONS // 2)
        @given(query=from_schema(SCHEMA, mode=Mode.POSITIVE))
        def valid(query: str) -> None:
            assert_handled(http.post("/graphql", json={"query": query}))

        @settings(FUZZ_SETTINGS, max_examples=OPERATIONS // 2)
        @given(query=from_schema(SCHEMA, mode=Mode.NEGATIVE))
        def violating(query: str) -> None:
            assert_handled(http.post("/graphql", json={"query": query}))

        valid()
        violating()


def fuzz_bodies(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:

        @settings(FUZZ_SETTINGS, max_examples=BODIES // 2)
        @given(body=bodies, content_type=content_types, accept=accepts)
        def posted(body: bytes, content_type: str, accept: str) -> None:
            headers = {"content-type": content_type, "accept": accept}
            assert_handled(http.post("/graphql", content=body, headers=headers))

        @settings(FUZZ_SETTINGS, max_examples=BODIES // 2)
        @given(params=query_params, accept=accepts)
        def got(params: dict[str, Any], accept: str) -> None:
            assert_handled(http.get("/graphql", params=params, headers={"accept": accept}))

        posted()
        got()


async def test_generated_operations_get_no_server_error(
    graphql: GraphQLClient, server_url: str, error_log: ErrorLog
) -> None:
    account = await graphql.sign_up()

    await asyncio.to_thread(fuzz_operations, server_url, account.token)

    assert [record.getMessage() for record in error_log.records] == []


async def test_generated_bodies_get_no_server_error(server_url: str, error_log: ErrorLog) -> None:
    await asyncio.to_thread(fuzz_bodies, server_url)

    assert [record.getMessage() for record in error_log.records] == []
