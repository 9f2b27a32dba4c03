"""The payload and paging conventions (README, "API conventions"), checked over the whole
schema, so that a mutation or list added later cannot leave them out."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    get_named_type,
    is_list_type,
    is_non_null_type,
    print_type,
)

from resolvers.pagination import MAX_PAGE_SIZE
from schema import build_schema

SCHEMA = build_schema(mask_errors=False)._schema
MUTATIONS = SCHEMA.mutation_type.fields if SCHEMA.mutation_type else {}
DELETES = sorted(name for name in MUTATIONS if name.startswith("delete"))


def payload_type(mutation: str) -> GraphQLObjectType:
    field_type = MUTATIONS[mutation].type
    assert is_non_null_type(field_type), f"{mutation} may return null instead of its payload"
    payload = get_named_type(field_type)
    assert isinstance(payload, GraphQLObjectType), f"{mutation} does not return an object"
    return payload


def connection_fields() -> list[tuple[str, str, GraphQLField]]:
    """Every (type, field) that takes `first`: the lists paged by cursor."""
    return [
        (type_name, field_name, field)
        for type_name, named in sorted(SCHEMA.type_map.items())
        if isinstance(named, GraphQLObjectType) and not type_name.startswith("__")
        for field_name, field in named.fields.items()
        if "first" in field.args
    ]


def test_there_are_mutations_and_deletes_to_check() -> None:
    assert MUTATIONS and DELETES


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_every_mutation_payload_has_a_non_null_list_of_user_errors(mutation: str) -> None:
    payload = payload_type(mutation)

    errors = payload.fields.get("errors")

    assert errors is not None, print_type(payload)
    # [UserError!]!: clients check `errors.length` without a null check, on every mutation
    assert is_non_null_type(errors.type) and is_list_type(errors.type.of_type), print_type(payload)
    assert is_non_null_type(errors.type.of_type.of_type), print_type(payload)
    assert get_named_type(errors.type).name == "UserError", print_type(payload)


@pytest.mark.parametrize("mutation", DELETES)
def test_every_delete_returns_ok_and_the_deleted_id(mutation: str) -> None:
    payload = payload_type(mutation)

    ok, deleted_id = payload.fields.get("ok"), payload.fields.get("deletedId")

    assert ok is not None and str(ok.type) == "Boolean!", print_type(payload)
    # Nullable: a delete that failed deleted nothing and says why in `errors`.
    assert deleted_id is not None and str(deleted_id.type) == "ID", print_type(payload)


def test_there_are_connection_fields_to_check() -> None:
    assert connection_fields()


@pytest.mark.parametrize(
    ("type_name", "field_name", "field"),
    connection_fields(),
    ids=[f"{type_name}.{field_name}" for type_name, field_name, _ in connection_fields()],
)
def test_every_first_argument_declares_its_page_size(
    type_name: str, field_name: str, field: GraphQLField
) -> None:
    """The declared default is what an omitted `first` gets, and what null gets too
    (tests/integration/test_page_sizes.py checks that against the server)."""
    first = field.args["first"]

    assert str(first.type) == "Int"
    assert isinstance(first.default_value, int), f"{type_name}.{field_name} has no default"
    assert 1 <= first.default_value <= MAX_PAGE_SIZE
