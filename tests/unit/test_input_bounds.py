"""Every string and list a client can send has a bound, derived from the schema itself."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from schema import build_schema
from schema.input_bounds import LIST_BOUNDS, STRING_BOUNDS

SCHEMA = build_schema(mask_errors=False)._schema


def inputs() -> Iterator[tuple[str, GraphQLInputType]]:
    """(coordinate, type) of every argument and input field of the schema."""
    for type_ in SCHEMA.type_map.values():
        if type_.name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                for name, argument in field.args.items():
                    yield f"{type_.name}.{field_name}.{name}", argument.type
        if isinstance(type_, GraphQLInputObjectType):
            for name, input_field in type_.fields.items():
                yield f"{type_.name}.{name}", input_field.type


def unwrapped(type_: GraphQLInputType) -> GraphQLInputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def is_string(type_: GraphQLInputType) -> bool:
    named = get_named_type(type_)
    return isinstance(named, GraphQLScalarType) and named.name == "String"


def test_every_string_argument_and_input_field_has_a_bound() -> None:
    # Query.__type is a meta field, in no field map: its one String argument is named here.
    strings = {coordinate for coordinate, type_ in inputs() if is_string(type_)}
    strings.add("Query.__type.name")

    assert strings == set(STRING_BOUNDS)


def test_every_list_argument_and_input_field_has_a_bound() -> None:
    lists = {
        coordinate for coordinate, type_ in inputs() if isinstance(unwrapped(type_), GraphQLList)
    }

    assert lists == set(LIST_BOUNDS)
