"""The query cost limit and budget as a schema extension: priced after validation, before
any resolver runs, and reported in every response's `extensions.cost` (a subscription's
events excepted: see `get_results`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.context import Context
from resolvers.errors import QueryTooCostly, RateLimited
from schema.cost import MAX_QUERY_COST, query_cost

COST_EXTENSION = "cost"


def budget_subject(context: Context) -> str:
    """Whose budget a request spends: its viewer's, or its client address's when anonymous."""
    if context.viewer is not None:
        return f"viewer:{context.viewer.id}"
    return f"client:{context.client_address or 'unknown'}"


class QueryCostLimiter(SchemaExtension):
    def __init__(self) -> None:
        super().__init__()
        self._report: dict[str, Any] = {"requested": 0, "limit": MAX_QUERY_COST}
        self._subscription = False

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        assert execution.graphql_document is not None  # on_execute follows validation
        self._subscription = execution.operation_type is OperationType.SUBSCRIPTION
        cost = query_cost(
            execution.schema._schema,
            execution.graphql_document,
            execution.operation_name,
            execution.variables,
        )
        self._report["requested"] = cost
        if cost > MAX_QUERY_COST:
            raise QueryTooCostly(
                f"This request would cost {cost} points; one request may cost at most "
                f"{MAX_QUERY_COST}. Ask for smaller pages or fewer nested lists.",
                cost=cost,
                limit=MAX_QUERY_COST,
            )
        context = execution.context
        if isinstance(context, Context):
            await self._spend(context, cost)
        yield

    async def _spend(self, context: Context, cost: int) -> None:
        budget = context.services.cost_budget
        spend = await budget.spend(budget_subject(context), cost)
        if spend.remaining is not None:
            self._report["budget"] = {
                "capacity": budget.capacity,
                "remaining": spend.remaining,
                "restoredPerMinute": budget.capacity,
            }
        if not spend.allowed:
            raise RateLimited(
                f"This request costs {cost} points and the budget has {spend.remaining} "
                f"left; it refills at {budget.capacity} points a minute.",
                retry_after_seconds=spend.retry_after_seconds,
            )

    def get_results(self) -> dict[str, Any]:
        # A subscription is charged once, when it starts; its events (each a result of
        # its own) would only repeat that report, stale by then, so they carry none.
        if self._subscription:
            return {}
        return {COST_EXTENSION: self._report}
