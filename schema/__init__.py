"""The GraphQL schema: types in schema/types, root types beside this file."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.cost_limiter import QueryCostLimiter
from schema.expansion import ExpandedSizeLimiter
from schema.mutation import Mutation
from schema.query import Query
from schema.types.comment import Comment
from schema.types.post import Post
from schema.types.user import User

# The deepest contract operation (Feed: feed.edges.node.comments.edges.node.author) is 7
# levels; 10 leaves room for fragments and blocks recursive friends-of-friends bombs.
MAX_QUERY_DEPTH = 10
MAX_ALIASES = 30  # aliases let one request repeat a costly field; clients need a handful
MAX_TOKENS = 3_000  # the longest contract operation with its fragments is ~300 tokens
# Distinct documents remembered by the parser and validator; clients send a fixed set.
DOCUMENT_CACHE_SIZE = 1_000

INTERNAL_ERROR_MESSAGE = "Internal server error."


def _is_internal(error: GraphQLError) -> bool:
    """Errors raised while executing that are not deliberate GraphQL errors are internal.

    Errors without a path (syntax, validation, variables) describe the request itself and
    are always shown.
    """
    return error.path is not None and not isinstance(error.original_error, GraphQLError)


def _extensions(mask_errors: bool) -> list[Callable[[], SchemaExtension]]:
    # Validation rules are classes made here, once: a limiter built per request would be a
    # new class every time and defeat ValidationCache, which keys on the rule classes.
    rules: list[type[ASTValidationRule]] = [
        depth_rule(MAX_QUERY_DEPTH, None),
        max_aliases_rule(MAX_ALIASES),
    ]
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: AddValidationRules(rules),
        # Before ValidationCache, whose hook validates: a fragment bomb never reaches it.
        ExpandedSizeLimiter,
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        QueryCostLimiter,
    ]
    if mask_errors:
        extensions.append(
            lambda: MaskErrors(should_mask_error=_is_internal, error_message=INTERNAL_ERROR_MESSAGE)
        )
    return extensions


class PictographSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only internal errors: an invalid query or an UNAUTHENTICATED field is the
        client's business, answered in the response, and would drown the real ones."""
        super().process_errors(
            [error for error in errors if _is_internal(error)], execution_context
        )


def build_schema(*, mask_errors: bool) -> strawberry.Schema:
    return PictographSchema(
        query=Query,
        mutation=Mutation,
        types=[User, Post, Comment],
        extensions=_extensions(mask_errors),
        config=StrawberryConfig(auto_camel_case=True),
    )
