"""The static cost and the expansion bound, over the real schema and the contract."""

from __future__ import annotations

import pytest
from graphql import parse

from schema import build_schema
from schema.cost import (
    MAX_QUERY_COST,
    MUTATION_WEIGHT,
    query_cost,
    unbounded_list_fields,
)
from schema.expansion import DocumentTooLarge, expanded_selections
from tests.contract import operation_source, served_operation_names

SCHEMA = build_schema(mask_errors=False)._schema
# "Comfortably": a client may page a contract operation at five times its default size
# before a request is refused.
COMFORT_FACTOR = 5


def cost(document: str, **variables: object) -> int:
    return query_cost(SCHEMA, parse(document), None, variables)


@pytest.mark.parametrize("name", served_operation_names())
def test_every_contract_operation_fits_comfortably_at_its_default_page_size(name: str) -> None:
    document = parse(operation_source(name))

    assert query_cost(SCHEMA, document, name, {}) * COMFORT_FACTOR <= MAX_QUERY_COST


def test_every_list_of_objects_has_a_declared_bound() -> None:
    assert unbounded_list_fields(SCHEMA) == []


def test_a_connection_counts_each_edge_and_node_of_its_first() -> None:
    query = "{ viewer { followers(first: 7) { edges { node { id } } } } }"

    # viewer, the connection, and 7 edges with a node each
    assert cost(query) == 1 + 1 + 7 * 2


def test_an_omitted_or_null_first_is_the_fields_declared_default() -> None:
    omitted = "{ viewer { followers { edges { node { id } } } } }"
    null = "query ($n: Int) { viewer { followers(first: $n) { edges { node { id } } } } }"

    assert cost(omitted) == cost(null, n=None) == 1 + 1 + 20 * 2


def test_a_first_over_the_cap_counts_as_the_cap() -> None:
    query = "query ($n: Int) { viewer { followers(first: $n) { edges { node { id } } } } }"

    assert cost(query, n=10_000) == cost(query, n=100)


def test_nested_connections_multiply() -> None:
    query = "{ viewer { followers(first: 10) { edges { node { following(first: 10) { edges { node { id } } } } } } } }"

    assert cost(query) == 1 + 1 + 10 * (2 + 1 + 10 * 2)


def test_a_fragment_costs_what_its_selections_cost_wherever_it_is_spread() -> None:
    inline = "{ viewer { followers(first: 5) { edges { node { id posts(first: 2) { edges { cursor } } } } } } }"
    spread = "{ viewer { followers(first: 5) { edges { node { ...F } } } } } fragment F on User { id posts(first: 2) { edges { cursor } } }"

    assert cost(inline) == cost(spread)


def test_a_mutation_costs_its_weight_beside_its_objects() -> None:
    assert cost("mutation { logOut { ok } }") == MUTATION_WEIGHT + 1


def test_scalars_are_free() -> None:
    assert cost("{ __typename }") == 0


def test_the_expanded_size_counts_a_fragment_wherever_it_is_spread() -> None:
    document = parse("{ viewer { ...F } v2: viewer { ...F } } fragment F on User { id username }")

    # viewer, the spread, its 2 fields; twice
    assert expanded_selections(document) == 2 * (1 + 1 + 2)


def test_a_fragment_bomb_is_refused_without_walking_it() -> None:
    fragments = ["fragment G0 on Query { __typename }"] + [
        f"fragment G{n} on Query {{ ...G{n - 1} ...G{n - 1} }}" for n in range(1, 61)
    ]

    # 2**60 selections: counting them one by one would never finish.
    with pytest.raises(DocumentTooLarge):
        expanded_selections(parse("{ ...G60 } " + " ".join(fragments)))


def test_a_field_with_subfields_repeated_on_one_object_is_refused() -> None:
    document = parse("{ " + " ".join(["viewer { id }"] * 6) + " }")

    with pytest.raises(DocumentTooLarge, match="`viewer` is selected 6 times"):
        expanded_selections(document)
