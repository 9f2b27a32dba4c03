"""One execution of a subscription's selection set for every receiver of an event in this
process whose answer cannot depend on who receives it, encoded once and written to each of
their sockets (the lane resolvers/delivery.py pushes through).

A receiver gets a `SharedLane` when it subscribes over a WebSocket with a selection in
which every field, through fragments, is in `VIEWER_INDEPENDENT_FIELDS`: plain values
copied from the event's records, no resolver that reads the context, no argument, no
connection, nothing `viewer...`. Lanes of the same operation node (the same parsed document:
CachedParsing hands every socket that sends the same text the same one, fragments included)
and the same variables render the same result identically, so the delivery renders each
(lane, result) once. An execution with errors is not shared: those receivers execute their
own from then on, as any other selection does. The permission check is never shared: only
receivers that passed theirs are pushed anything.

A pushed event carries `data` only: a subscription's cost is charged, and reported, once
when it starts (schema/cost_limiter.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from inspect import isawaitable
from typing import Any, Generic, TypeVar

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    Executor,
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    execute_subscription_event,
    get_named_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.context import Context, SocketOperation
from schema.types.common import Info

ResultT = TypeVar("ResultT")

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


class SharedLane(Generic[ResultT]):
    """A receiver's way to be pushed a result rendered once for all who share its key."""

    def __init__(
        self,
        key: Hashable,
        executor: Executor[Any],
        present: Callable[[ResultT], object],
        operation: SocketOperation,
    ) -> None:
        self.key = key
        self._executor = executor
        self._present = present
        self._operation = operation

    async def render(self, result: ResultT) -> str | None:
        executed: Any = execute_subscription_event(
            self._executor.build_per_event_executor(self._present(result))
        )
        if isawaitable(executed):
            executed = await executed
        if not isinstance(executed, ExecutionResult) or executed.errors:
            return None
        return orjson.dumps({"data": executed.data}).decode()

    async def push(self, payload: str) -> bool:
        return await self._operation.push(payload)


def shared_lane(info: Info, present: Callable[[ResultT], object]) -> SharedLane[ResultT] | None:
    """The lane of the subscription `info` resolves, whose results `present` makes what its
    selection is executed over; None unless it runs on a socket and no viewer can change
    its answer."""
    context = info.context
    operation = context.operation if isinstance(context, Context) else None
    raw = info._raw_info  # graphql-core's: strawberry's Info does not show the fragments
    root_type = raw.schema.subscription_type
    variables = _variables_key(info.variable_values)
    if (
        operation is None
        or root_type is None
        or variables is None
        or not _viewer_independent(raw.operation.selection_set, root_type, raw.fragments)
    ):
        return None
    document = DocumentNode(definitions=(raw.operation, *raw.fragments.values()))
    executor = StrawberryGraphQLCoreExecutionContext.build(
        raw.schema,
        document,
        context_value=context,
        raw_variable_values=operation.variables,
        operation_name=None if raw.operation.name is None else raw.operation.name.value,
    )
    if isinstance(executor, list):  # its variables coerced for the subscription already
        return None
    # The executor holds the operation node, so its id in the key is not reused meanwhile.
    return SharedLane((id(raw.operation), variables), executor, present, operation)
