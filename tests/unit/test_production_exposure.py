"""Production keeps the schema to itself: no introspection (unless PICTOGRAPH_INTROSPECTION
turns it on, for an internal deployment), no "Did you mean" hints, no GraphiQL. The app is
built as `create_app` builds it; nothing here needs its backends (refusals come before any
resolver), so none are started."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from strawberry.types import ExecutionResult

from app.graphql_view import GraphQLView
from app.main import GRAPHQL_PATH, create_app
from app.settings import Environment, Settings

INTROSPECTION = "{ __schema { queryType { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "User") { name } }'
MISSPELT_FIELD = "{ viewr { id } }"
MISSPELT_ENUM_VARIABLE = "query ($o: FeedOrder!) { feed(order: $o) { edges { cursor } } }"


def app_for(environment: Environment, **settings: Any) -> Starlette:
    backends = {
        "mongodb_url": "mongodb://db.invalid:27017",
        "redis_url": "redis://cache.invalid:6379/0",
        "s3_endpoint_url": "https://s3.invalid",
        "broadcast_url": "redis://bus.invalid:6379/0",
        "secret_key": "a production secret of its own",
    }
    return create_app(Settings.model_validate({"environment": environment, **backends, **settings}))


def view_of(app: Starlette) -> GraphQLView:
    route = next(r for r in app.routes if isinstance(r, Route) and r.path == GRAPHQL_PATH)
    view = route.app
    assert isinstance(view, GraphQLView)
    return view


async def run(
    app: Starlette, query: str, variables: dict[str, Any] | None = None
) -> ExecutionResult:
    return await view_of(app).schema.execute(query, variable_values=variables)


def messages(result: ExecutionResult) -> str:
    return " ".join(error.message for error in result.errors or [])


async def test_production_refuses_introspection() -> None:
    app = app_for(Environment.PRODUCTION)

    for query in (INTROSPECTION, TYPE_INTROSPECTION):
        result = await run(app, query)

        assert result.data is None
        assert "introspection has been disabled" in messages(result)


async def test_the_setting_turns_introspection_on_in_production() -> None:
    result = await run(app_for(Environment.PRODUCTION, introspection=True), INTROSPECTION)

    assert result.errors is None
    assert result.data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_development_answers_introspection() -> None:
    result = await run(app_for(Environment.DEVELOPMENT), INTROSPECTION)

    assert result.errors is None


async def test_typename_is_still_answered_in_production() -> None:
    result = await run(app_for(Environment.PRODUCTION), "{ __typename }")

    assert result.data == {"__typename": "Query"}


async def test_production_gives_no_suggestions_for_a_misspelt_field() -> None:
    production = await run(app_for(Environment.PRODUCTION), MISSPELT_FIELD)
    development = await run(app_for(Environment.DEVELOPMENT), MISSPELT_FIELD)

    assert "Cannot query field 'viewr'" in messages(production)
    assert "Did you mean" not in messages(production)
    assert "Did you mean 'viewer'" in messages(development)


async def test_production_gives_no_suggestions_for_a_misspelt_enum_variable() -> None:
    variables = {"o": "RANKD"}

    production = await run(app_for(Environment.PRODUCTION), MISSPELT_ENUM_VARIABLE, variables)
    development = await run(app_for(Environment.DEVELOPMENT), MISSPELT_ENUM_VARIABLE, variables)

    assert "RANKD" in messages(production)
    assert "Did you mean" not in messages(production)
    assert "Did you mean" in messages(development)


def test_production_serves_no_graphiql() -> None:
    app = app_for(Environment.PRODUCTION)

    assert view_of(app).graphql_ide is None
    assert not [route for route in app.routes if isinstance(route, Mount)]
