"""Parsing and validating documents: refused above a size, cached within a byte budget.

strawberry's ParserCache and ValidationCache are `functools.lru_cache`s bounded by entries:
twenty distinct 10 MB documents kept +396 MB. Here a document over MAX_DOCUMENT_CHARACTERS
is refused before it is parsed, and the cache (a document, its AST and its validation
errors per rule set) evicts the least recently used entries to stay under a byte budget.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

# The longest contract operation with its fragments is under 1,000 characters; forty times
# that leaves room for hand-written queries, GraphiQL's introspection (~2,000), and any
# document the persisted-query store keeps (32 KiB at most: storage/persisted_query.py).
MAX_DOCUMENT_CHARACTERS = 40_000
# Measured with tracemalloc (graphql-core 3.3, locations kept): an AST holds up to ~560
# bytes per token (many one-letter fields); the contract's documents ~130. MAX_TOKENS
# (schema/__init__.py) therefore bounds one document's AST to under 2 MB.
AST_BYTES_PER_TOKEN = 600
ERROR_BYTES = 1_000  # a validation error: its message, locations and node references
# Every contract document takes ~1 MB in all: 32 MiB keeps them many times over, and no
# stream of distinct documents holds more.
DOCUMENT_CACHE_BYTES = 32 * 1024 * 1024

RuleSet = tuple[type[ASTValidationRule], ...]
# Rules strawberry's own validation adds to every rule set.
STRAWBERRY_RULES: RuleSet = (MaybeNullValidationRule, OneOfInputValidationRule)


def document_too_large(query: str) -> GraphQLError | None:
    if len(query) <= MAX_DOCUMENT_CHARACTERS:
        return None
    return GraphQLError(
        f"The document has {len(query):,} characters; at most "
        f"{MAX_DOCUMENT_CHARACTERS:,} are accepted.",
        extensions={"code": "BAD_USER_INPUT"},
    )


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    weight: int
    errors: dict[RuleSet, list[GraphQLError]] = field(default_factory=dict)


def _token_count(document: DocumentNode) -> int:
    count = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        count += 1
        token = token.next
    return count


class DocumentCache:
    """Parsed documents by their text, and their validation errors by rule set: least
    recently used first out, so that the estimated bytes held stay under `max_bytes`."""

    def __init__(self, max_bytes: int = DOCUMENT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def parse(self, query: str, options: dict[str, Any]) -> DocumentNode:
        """The document `query` parses to (parse errors raise; they are not kept)."""
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry.document
        document = parse(query, **options)
        weight = sys.getsizeof(query) + _token_count(document) * AST_BYTES_PER_TOKEN
        self._insert(query, _Entry(document, weight))
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        rules: RuleSet,
        *,
        hide_suggestions: bool,
    ) -> list[GraphQLError]:
        entry = self._entries.get(query)
        cached = entry is not None and entry.document is document
        if entry is not None and cached and rules in entry.errors:
            return entry.errors[rules]
        errors = validate(
            schema, document, (*rules, *STRAWBERRY_RULES), hide_suggestions=hide_suggestions
        )
        if entry is not None and cached:
            entry.errors[rules] = errors
            added = len(errors) * ERROR_BYTES
            entry.weight += added
            self.bytes += added
            self._evict()
        return errors

    def _insert(self, query: str, entry: _Entry) -> None:
        if entry.weight > self.max_bytes:
            return
        self._entries[query] = entry
        self.bytes += entry.weight
        self._evict()

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and self._entries:
            _, oldest = self._entries.popitem(last=False)
            self.bytes -= oldest.weight


class CachedParsing(SchemaExtension):
    """Refuses a document over MAX_DOCUMENT_CHARACTERS before parsing it, then parses it
    through the cache (over HTTP and WebSockets alike)."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            if error := document_too_large(context.query):
                raise error
            # Empty selection sets ("{ viewer { } }"), which graphql-core 3.3 parses by
            # default, are a syntax error as the spec has them: strawberry's depth rule
            # raises on them (max() of nothing) instead of reporting an error.
            options = {**context.parse_options, "allow_empty_selection_sets": False}
            context.graphql_document = self.cache.parse(context.query, options)
        yield


class CachedValidation(SchemaExtension):
    """Validates through the cache, with or without graphql-core's "Did you mean" hints."""

    def __init__(self, cache: DocumentCache, *, hide_suggestions: bool) -> None:
        self.cache = cache
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        # An extension before this one may have refused the document already.
        if context.pre_execution_errors is None and context.graphql_document is not None:
            context.pre_execution_errors = self.cache.validate(
                context.schema._schema,
                context.query or "",
                context.graphql_document,
                context.validation_rules,
                hide_suggestions=self.hide_suggestions,
            )
        yield
