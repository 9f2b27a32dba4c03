"""One execution of a subscription's selection set for all the receivers of one event that
may share it.

A subscription event is executed once per receiver (graphql-core's per-event executor, with
that receiver's context). When an event reaches many receivers in this process, the ones
that passed their own check (resolvers/subscription.py) are handed the same yielded object,
built once for the event and carrying a `SharedExecutions`. Their executions are then
shared only when the result provably cannot depend on who receives it:

- the same operation node (the same parsed document: CachedParsing hands every socket that
  sends the same text the same one, fragments included) and the same variables;
- every field selected, through fragments, is in `VIEWER_INDEPENDENT_FIELDS`: plain values
  copied from the event's records (loaded once for the event through its SharedReads), no
  resolver that reads the context, no argument, no connection, nothing `viewer...`;
- the shared result has no errors (a receiver facing an errored one executes its own).

Any other selection, or any other root object, executes per receiver as before. The
permission check is never shared: only receivers that passed theirs get the shared root.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Hashable
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# (GraphQL type, field) pairs whose value is the same for every receiver of an event: plain
# attributes of the wrapped records (schema/types: no resolver, no argument, no context).
# Add to it only such fields: one that depends on the viewer (viewerHasLiked,
# viewerFollowState, followsViewer), reads through the context (avatarUrl, connections) or
# takes arguments would hand one receiver's answer to another.
VIEWER_INDEPENDENT_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("Subscription", "postLiked"),
        ("PostLike", "post"),
        ("PostLike", "user"),
        ("Post", "id"),
        ("Post", "caption"),
        ("Post", "createdAt"),
        ("Post", "likeCount"),
        ("Post", "commentCount"),
        ("Post", "hashtags"),
        ("User", "id"),
        ("User", "username"),
        ("User", "displayName"),
        ("User", "bio"),
        ("User", "isPrivate"),
        ("User", "followerCount"),
        ("User", "followingCount"),
        ("User", "postCount"),
    }
)
# Directives that only choose fields by the variables, which are part of the sharing key.
_SELECTING_DIRECTIVES = frozenset({"include", "skip"})


class SharedExecutions:
    """The executions of one event's shared yielded object, by operation and variables."""

    __slots__ = ("_results",)

    def __init__(self) -> None:
        self._results: dict[Hashable, tuple[object, asyncio.Future[ExecutionResult]]] = {}

    def get(self, key: Hashable) -> asyncio.Future[ExecutionResult] | None:
        entry = self._results.get(key)
        return None if entry is None else entry[1]

    def put(
        self, key: Hashable, operation: object, result: asyncio.Future[ExecutionResult]
    ) -> None:
        # The operation is held with its result so that its id, in the key, is not reused.
        self._results[key] = (operation, result)


def _viewer_independent(
    selection_set: SelectionSetNode,
    parent: GraphQLObjectType,
    fragments: dict[str, Any],
) -> bool:
    for selection in selection_set.selections:
        if any(d.name.value not in _SELECTING_DIRECTIVES for d in selection.directives or ()):
            return False
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name == "__typename":
                continue
            if (parent.name, name) not in VIEWER_INDEPENDENT_FIELDS:
                return False
            if selection.arguments and parent.name != "Subscription":
                return False
            if selection.selection_set is not None:
                child = get_named_type(parent.fields[name].type)
                if not isinstance(child, GraphQLObjectType):
                    return False
                if not _viewer_independent(selection.selection_set, child, fragments):
                    return False
        else:
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None:
                    return False
                condition, inner = fragment.type_condition, fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            else:
                return False
            if condition is not None and condition.name.value != parent.name:
                return False
            if not _viewer_independent(inner, parent, fragments):
                return False
    return True


def _variables_key(values: dict[str, Any]) -> str | None:
    try:
        return json.dumps(values, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return None


class SharingExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, sharing a subscription event's execution as the module says."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = getattr(self.root_value, "shared_executions", None)
        if not isinstance(shared, SharedExecutions):
            return super().execute_operation(serially)
        root_type = self.schema.subscription_type
        variables = _variables_key(self.variable_values.coerced)
        if (
            root_type is None
            or variables is None
            or not _viewer_independent(
                self.operation.selection_set, root_type, self.fragment_definitions
            )
        ):
            return super().execute_operation(serially)
        key = (id(self.operation), variables)
        cached = shared.get(key)
        if cached is None:
            own = super().execute_operation(serially)
            future: asyncio.Future[ExecutionResult] = asyncio.ensure_future(_awaited(own))
            shared.put(key, self.operation, future)
            # Shielded: the first receiver's socket closing must not cancel the others'.
            return asyncio.shield(future)
        return self._shared_or_own(cached, serially)

    async def _shared_or_own(
        self, shared: asyncio.Future[ExecutionResult], serially: bool | None
    ) -> ExecutionResult:
        try:
            result = await asyncio.shield(shared)
        except asyncio.CancelledError:
            if not shared.cancelled():
                raise  # this receiver's own operation is being cancelled
            result = None
        except Exception:  # the shared execution failed: execute our own, as before
            result = None
        if result is None or result.errors:
            return await _awaited(super().execute_operation(serially))
        # A result of its own around the shared data: strawberry and the extensions set
        # fields of the result they are handed.
        return ExecutionResult(data=result.data, errors=None)


async def _awaited(result: Any) -> ExecutionResult:
    # A subscription event's execution is never incremental (graphql-core raises first).
    done = await result if isinstance(result, Awaitable) else result
    assert isinstance(done, ExecutionResult)
    return done
