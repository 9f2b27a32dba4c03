"""Outside development, internal errors are masked; deliberate GraphQL errors are not."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import fakeredis
import pytest
from strawberry.extensions import SchemaExtension

from resolvers.rate_limits import RateLimits
from schema import INTERNAL_ERROR_MESSAGE, PictographSchema, build_schema
from schema.query import Query
from storage.rate_limit import RateLimiter


class BrokenUsers:
    async def find_id_by_username(self, username: str) -> int:
        raise RuntimeError("connection string with a password in it")


def context(viewer: Any = None) -> Any:
    services = SimpleNamespace(
        stores=SimpleNamespace(users=BrokenUsers()),
        # Every mutation is counted first (schema/rate_limits.py), in an embedded Redis here.
        rate_limiter=RateLimiter(fakeredis.FakeAsyncRedis()),
        rate_limits=RateLimits(),
    )
    return SimpleNamespace(
        services=services, viewer=viewer, auth_error=None, client_address="unit-test"
    )


async def test_an_internal_error_is_masked_in_production() -> None:
    result = await build_schema(mask_errors=True).execute(
        '{ user(username: "x") { id } }', context_value=context()
    )

    assert result.errors is not None
    assert [error.message for error in result.errors] == [INTERNAL_ERROR_MESSAGE]


async def test_an_internal_error_is_shown_in_development() -> None:
    result = await build_schema(mask_errors=False).execute(
        '{ user(username: "x") { id } }', context_value=context()
    )

    assert result.errors is not None
    assert "password" in result.errors[0].message


async def test_deliberate_errors_keep_their_message_and_code_in_production() -> None:
    result = await build_schema(mask_errors=True).execute(
        "mutation { logOut { ok } }", context_value=context()
    )

    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
    assert result.errors[0].message != INTERNAL_ERROR_MESSAGE


async def test_validation_errors_are_shown_in_production() -> None:
    result = await build_schema(mask_errors=True).execute(
        "{ noSuchField }", context_value=context()
    )

    assert result.errors is not None
    assert "noSuchField" in result.errors[0].message


async def test_only_internal_errors_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    schema = build_schema(mask_errors=True)

    await schema.execute("mutation { logOut { ok } }", context_value=context())
    await schema.execute("{ noSuchField }", context_value=context())
    assert not [record for record in caplog.records if record.levelname == "ERROR"]

    await schema.execute('{ user(username: "x") { id } }', context_value=context())
    assert [record.levelname for record in caplog.records] == ["ERROR"]


class BrokenBeforeExecution(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        raise KeyError("a bug in an extension")
        yield


async def test_an_exception_before_execution_is_logged_as_internal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # strawberry answers it as a request error (without a path), outside MaskErrors' reach.
    schema = PictographSchema(query=Query, extensions=[BrokenBeforeExecution], suggestions=False)

    result = await schema.execute("{ __typename }", context_value=context())

    assert result.errors is not None
    assert [record.levelname for record in caplog.records] == ["ERROR"]
