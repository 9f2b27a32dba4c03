"""What a request may cost, computed from its document and variables before anything runs.

A request's cost is the most objects its response can hold: every object a field returns
counts its weight (1 unless named below), a list counts each of the items it may hold, and
a connection's `edges` hold `first` items (the field's declared default when `first` is
omitted or null, capped as the resolvers cap it), as GitHub counts nodes. Scalars are free.
Fragments and inline fragments count where they are spread; fragments on different types
of an abstract field add up (an upper bound). So a cost bounds the objects resolved: the
contract operations are checked against it (tests/integration/test_query_cost.py).

Every weight and bound is here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_named_type,
    is_composite_type,
)

from resolvers.message import MAX_THREAD_PARTICIPANTS
from resolvers.notification import SHOWN_ACTORS
from resolvers.pagination import MAX_PAGE_SIZE
from resolvers.post import MAX_MEDIA_PER_POST
from resolvers.story import TRAY_MAX_ENTRIES
from storage.mention import MAX_MENTIONS
from storage.story import MAX_LIVE_STORIES_PER_AUTHOR

# Shopify allows 1,000 points and GitHub 500,000 nodes; ours count every object (edges and
# page infos too). The costliest contract operation at its default page size (Explore: 24
# post cards) costs 502, and 2,022 at 100 cards; 5,000 keeps those with room and refuses a
# second level of 100-item pages (100 x 100 users cost over 20,000), whose execution
# would hold the event loop for hundreds of milliseconds.
MAX_QUERY_COST = 5_000
# Per viewer (or client address when anonymous), restored continuously: a minute holds a
# dozen maximal requests, or a feed page every second with room to spare.
COST_BUDGET_PER_MINUTE = 60_000

OBJECT_WEIGHT = 1
# A write costs more than a read of the same shape: it is what takes locks, fans out and
# invalidates caches (Shopify charges 10 per mutation).
MUTATION_WEIGHT = 10
# The introspection query that GraphiQL and codegen tools send resolves about 750 objects;
# graphql-core's MaxIntrospectionDepthRule bounds how deep an introspection query may nest,
# so it is priced as one flat amount instead of counted over the schema.
INTROSPECTION_WEIGHT = 1_000
# Mutation payloads report one error per input field at fault; the widest input has four.
MAX_USER_ERRORS = 10
# A presigned POST's form: key, content type, policy, and the signature's four or five.
MAX_UPLOAD_FORM_FIELDS = 16

# Fields whose objects cost more than their count: each reads from a list the others do not.
FIELD_WEIGHTS: Mapping[tuple[str, str], int] = {
    ("Query", "feed"): 10,  # a ranker call over a window of 200 candidates
    ("Query", "explore"): 20,  # candidates from several lists, then a ranker call
    ("Query", "reels"): 20,  # the same: the followed accounts' reels, everyone's, a ranker call
    ("Query", "searchUsers"): 5,  # a prefix scan
    # A read of up to 100 unread notifications and of their visibility, for one number.
    ("Query", "unreadNotificationCount"): 5,
}

# The most items each list field (other than a connection's `edges`) holds.
LIST_SIZES: Mapping[tuple[str, str], int] = {
    ("Post", "media"): MAX_MEDIA_PER_POST,
    ("Post", "mentions"): MAX_MENTIONS,
    ("Reel", "mentions"): MAX_MENTIONS,
    ("Upload", "fields"): MAX_UPLOAD_FORM_FIELDS,
    ("Thread", "participants"): MAX_THREAD_PARTICIPANTS,
    ("Notification", "actors"): SHOWN_ACTORS,
    ("Query", "storyTray"): TRAY_MAX_ENTRIES,
    ("StoryTrayEntry", "stories"): MAX_LIVE_STORIES_PER_AUTHOR,
}
LIST_SIZES_BY_FIELD_NAME: Mapping[str, int] = {"errors": MAX_USER_ERRORS}

PAGE_SIZE_ARGUMENT = "first"
EDGES_FIELD = "edges"


class UnboundedListError(LookupError):
    """A list field with no declared bound: add it to LIST_SIZES."""


@dataclass(frozen=True, slots=True)
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    variable_defaults: Mapping[str, Any]


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the operation that `operation_name` selects in a document that passed
    validation (so every field exists and no fragment spreads itself)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walk = _Walk(
        schema=schema,
        fragments={
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        },
        variables=variables or {},
        variable_defaults={
            definition.variable.name.value: _literal(definition.default_value)
            for definition in operation.variable_definitions or ()
            if definition.default_value is not None
        },
    )
    is_mutation = operation.operation is OperationType.MUTATION
    return _selection_cost(walk, operation.selection_set, root, None, is_mutation, {})


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


def _selection_cost(
    walk: _Walk,
    selection_set: SelectionSetNode,
    parent: GraphQLNamedType,
    page_size: int | None,
    is_root_mutation: bool,
    memo: dict[tuple[int, str, int | None], int],
) -> int:
    """The cost of one object's selections. `page_size` is set inside a connection: what
    its `edges` hold. Memoised per fragment spread, so a fragment used a thousand times is
    walked once."""
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(walk, selection, parent, page_size, is_root_mutation, memo)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            on = parent if condition is None else walk.schema.get_type(condition.name.value)
            if on is not None:
                total += _selection_cost(
                    walk, selection.selection_set, on, page_size, is_root_mutation, memo
                )
        elif isinstance(selection, FragmentSpreadNode):
            fragment = walk.fragments.get(selection.name.value)
            if fragment is None:
                continue
            key = (id(fragment), parent.name, page_size)
            if key not in memo:
                on = walk.schema.get_type(fragment.type_condition.name.value)
                memo[key] = (
                    0
                    if on is None
                    else _selection_cost(
                        walk, fragment.selection_set, on, page_size, is_root_mutation, memo
                    )
                )
            total += memo[key]
    return total


def _field_cost(
    walk: _Walk,
    node: FieldNode,
    parent: GraphQLNamedType,
    page_size: int | None,
    is_root_mutation: bool,
    memo: dict[tuple[int, str, int | None], int],
) -> int:
    name = node.name.value
    if name.startswith("__"):
        return 0 if name == "__typename" else INTROSPECTION_WEIGHT
    if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return 0
    field = parent.fields.get(name)
    if field is None:
        return 0
    named = get_named_type(field.type)
    weight = FIELD_WEIGHTS.get((parent.name, name), 0)
    if is_root_mutation:
        weight += MUTATION_WEIGHT
    if not is_composite_type(named):
        return weight
    items = 1
    if _is_list(field.type):
        items = (
            page_size
            if name == EDGES_FIELD and page_size is not None
            else _list_size(parent.name, name)
        )
    inner_page_size = _page_size(walk, node, field) if PAGE_SIZE_ARGUMENT in field.args else None
    inner = 0
    if node.selection_set is not None:
        inner = _selection_cost(walk, node.selection_set, named, inner_page_size, False, memo)
    return weight + items * (OBJECT_WEIGHT + inner)


def _is_list(type_: GraphQLOutputType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _list_size(type_name: str, field_name: str) -> int:
    size = LIST_SIZES.get((type_name, field_name), LIST_SIZES_BY_FIELD_NAME.get(field_name))
    if size is None:
        raise UnboundedListError(f"{type_name}.{field_name} has no bound in schema/cost.py")
    return size


def _page_size(walk: _Walk, node: FieldNode, field: GraphQLField) -> int:
    """What `first` asks for, as the resolvers read it: null or omitted is the declared
    default, anything above the cap is the cap, and anything that is not an Int (which
    variable coercion will refuse) the cap as well."""
    value: Any = Undefined
    for argument in node.arguments or ():
        if argument.name.value == PAGE_SIZE_ARGUMENT:
            if isinstance(argument.value, VariableNode):
                variable = argument.value.name.value
                value = walk.variables.get(
                    variable, walk.variable_defaults.get(variable, Undefined)
                )
            else:
                value = _literal(argument.value)
    if value is Undefined or value is None:
        value = field.args[PAGE_SIZE_ARGUMENT].default_value
    if value is Undefined or value is None:
        return MAX_PAGE_SIZE
    if isinstance(value, bool) or not isinstance(value, int):
        return MAX_PAGE_SIZE
    return max(0, min(value, MAX_PAGE_SIZE))


def _literal(node: object) -> Any:
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, NullValueNode):
        return None
    return Undefined


def unbounded_list_fields(schema: GraphQLSchema) -> list[str]:
    """List fields of objects that have no bound here (a test keeps this empty)."""
    missing = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(
            type_, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        for name, field in type_.fields.items():
            if not _is_list(field.type) or not is_composite_type(get_named_type(field.type)):
                continue
            if name == EDGES_FIELD:
                continue
            try:
                _list_size(type_.name, name)
            except UnboundedListError:
                missing.append(f"{type_.name}.{name}")
    return missing
