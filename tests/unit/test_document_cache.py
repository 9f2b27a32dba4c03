"""The document cache holds parsed and validated documents within its byte budget."""

from __future__ import annotations

from graphql import GraphQLError, specified_rules

from schema import build_schema
from schema.documents import (
    MAX_DOCUMENT_CHARACTERS,
    DocumentCache,
    document_too_large,
)

SCHEMA = build_schema(mask_errors=False)._schema


def distinct_document(n: int) -> str:
    return "{ " + " ".join(f"a{n}_{i}: __typename" for i in range(200)) + " }"


def test_distinct_documents_never_hold_more_than_the_budget() -> None:
    cache = DocumentCache(max_bytes=2_000_000)

    for n in range(100):
        cache.parse(distinct_document(n), {})

    assert 0 < cache.bytes <= cache.max_bytes
    assert len(cache) < 100


def test_the_least_recently_used_document_goes_first() -> None:
    cache = DocumentCache(max_bytes=2_000_000)
    first = cache.parse(distinct_document(0), {})

    for n in range(1, 100):
        assert cache.parse(distinct_document(0), {}) is first  # used again: kept
        cache.parse(distinct_document(n), {})

    assert cache.parse(distinct_document(0), {}) is first
    assert cache.parse(distinct_document(1), {}) is not cache.parse(distinct_document(2), {})


def test_a_validation_result_is_kept_with_its_document() -> None:
    cache = DocumentCache()
    query = "{ noSuchField }"
    document = cache.parse(query, {})

    rules = tuple(specified_rules)

    errors = cache.validate(SCHEMA, query, document, rules, hide_suggestions=True)

    assert errors
    assert cache.validate(SCHEMA, query, document, rules, hide_suggestions=True) is errors


def test_a_document_over_the_limit_is_refused_by_its_length() -> None:
    error = document_too_large("#" * (MAX_DOCUMENT_CHARACTERS + 1))

    assert isinstance(error, GraphQLError)
    assert document_too_large("#" * MAX_DOCUMENT_CHARACTERS) is None
