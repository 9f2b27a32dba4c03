"""The schema serves the contract: every operation not pending validates against it."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from schema import build_schema
from tests.contract import (
    PENDING_OPERATIONS,
    operation_names,
    operation_source,
    served_operation_names,
)

SCHEMA = build_schema(mask_errors=False)._schema


@pytest.mark.parametrize("name", served_operation_names())
def test_a_served_contract_operation_validates(name: str) -> None:
    errors = validate(SCHEMA, parse(operation_source(name)))

    assert errors == [], [error.message for error in errors]


def test_every_pending_operation_is_in_the_contract() -> None:
    assert set(operation_names()) >= PENDING_OPERATIONS


def test_no_pending_operation_validates_yet() -> None:
    """When one starts validating, its feature has landed: take it off the pending list
    and give it an end-to-end test in tests/integration/test_contract_operations.py. (One
    test over the list, which is empty while every operation is served.)"""
    validating = [
        name
        for name in sorted(PENDING_OPERATIONS)
        if validate(SCHEMA, parse(operation_source(name))) == []
    ]
    assert validating == []
