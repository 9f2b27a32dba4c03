"""The GraphQL schema: types in schema/types, root types beside this file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from resolvers.context import Context
from schema.cost_limiter import QueryCostLimiter
from schema.documents import CachedParsing, CachedValidation, DocumentCache
from schema.expansion import ExpandedSizeLimiter
from schema.input_bounds import InputBounds
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription
from schema.types.comment import Comment
from schema.types.message import Message, Thread
from schema.types.notification import Notification
from schema.types.post import Post
from schema.types.reel import Reel
from schema.types.story import Story
from schema.types.user import User

# The deepest contract operation (Feed: feed.edges.node.comments.edges.node.author) is 7
# levels; 10 leaves room for fragments and blocks recursive friends-of-friends bombs.
MAX_QUERY_DEPTH = 10
MAX_ALIASES = 30  # aliases let one request repeat a costly field; clients need a handful
MAX_TOKENS = 3_000  # the longest contract operation with its fragments is ~300 tokens
INTERNAL_ERROR_MESSAGE = "Internal server error."


def _is_internal(error: GraphQLError) -> bool:
    """Errors raised while executing that are not deliberate GraphQL errors are internal, and
    so is an exception raised before execution (strawberry answers one raised by an
    extension as a request error, carrying it as `original_error`).

    The other errors without a path (syntax, validation, variables: graphql-core's own, whose
    `original_error` is None or a GraphQLError) describe the request itself and are shown.
    """
    original = error.original_error
    return not isinstance(original, GraphQLError) and (
        error.path is not None or original is not None
    )


def _extensions(
    *, mask_errors: bool, introspection: bool, suggestions: bool
) -> list[Callable[[], SchemaExtension]]:
    # Validation rules are classes made here, once: a limiter built per request would be a
    # new class every time and defeat the validation cache, which keys on the rule classes.
    rules: list[type[ASTValidationRule]] = [
        depth_rule(MAX_QUERY_DEPTH, None),
        max_aliases_rule(MAX_ALIASES),
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)  # __schema and __type; __typename stays
    # One per schema, shared by the extensions built for every request.
    documents = DocumentCache()
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: CachedParsing(documents),
        lambda: AddValidationRules(rules),
        # Before the validation, whose hook validates: a fragment bomb never reaches it.
        ExpandedSizeLimiter,
        lambda: CachedValidation(documents, hide_suggestions=not suggestions),
        QueryCostLimiter,
        InputBounds,
    ]
    if mask_errors:
        extensions.append(
            lambda: MaskErrors(should_mask_error=_is_internal, error_message=INTERNAL_ERROR_MESSAGE)
        )
    return extensions


class PictographSchema(strawberry.Schema):
    def __init__(self, *args: Any, suggestions: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.suggestions = suggestions

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        """What strawberry passes to graphql-core's execute(): its `hide_suggestions` keeps
        "Did you mean" out of the errors of coercing variables (an enum value, an input
        field) as CachedValidation keeps it out of validation's."""
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        return {**kwargs, "hide_suggestions": not self.suggestions}

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """Each operation of a WebSocket gets a context of its own (`Context.for_operation`):
        strawberry passes every operation the connection's, and subscriptions renew their
        loaders per event."""
        context = kwargs.get("context_value")
        if isinstance(context, Context) and context.close_socket is not None:
            kwargs["context_value"] = context.for_operation()
        return await super().stream(*args, **kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only internal errors: an invalid query or an UNAUTHENTICATED field is the
        client's business, answered in the response, and would drown the real ones."""
        super().process_errors(
            [error for error in errors if _is_internal(error)], execution_context
        )


def build_schema(
    *, mask_errors: bool, introspection: bool = True, suggestions: bool = True
) -> strawberry.Schema:
    """The schema; production masks internal errors and turns off introspection and the
    "Did you mean" hints that spell out the schema to whoever probes it (app/main.py)."""
    return PictographSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Post, Comment, Thread, Message, Notification, Story, Reel],
        extensions=_extensions(
            mask_errors=mask_errors, introspection=introspection, suggestions=suggestions
        ),
        config=StrawberryConfig(auto_camel_case=True),
        suggestions=suggestions,
    )
