"""Every mutation is counted against its rate limits, including those added later."""

from __future__ import annotations

from strawberry.types.base import get_object_definition

from resolvers.rate_limits import RateLimits
from schema import build_schema
from schema.mutation import Mutation
from schema.rate_limits import MutationRateLimit


def test_every_mutation_field_counts_against_its_rate_limits() -> None:
    definition = get_object_definition(Mutation, strict=True)

    unlimited = [
        field.name
        for field in definition.fields
        if not any(isinstance(extension, MutationRateLimit) for extension in field.extensions)
    ]

    assert unlimited == []


def test_every_limit_override_names_a_mutation_of_the_schema() -> None:
    mutation_type = build_schema(mask_errors=False)._schema.mutation_type
    assert mutation_type is not None

    assert set(RateLimits().mutation_overrides) <= set(mutation_type.fields)
