"""How long each string and each list a client sends may be, checked in one place before
any value is coerced or any resolver runs.

Every String argument and input field has its bound here, by schema coordinate
("Type.field.arg" for arguments, "Input.field" for input fields); every ID has ID_BOUND;
every list has its own. A test derives the coordinates from the schema, so a new argument
cannot go unbounded. A value over its bound is BAD_USER_INPUT for the whole request, read
from the raw variables (a list is refused by its length, before its items are looked at).

Where a resolver checks a limit of its own and answers in the payload (`errors { code
field }`, which the contract's clients show beside the field), the bound leaves room
(PAYLOAD_ERROR_ROOM times that limit): a caption a little too long gets the payload's
INVALID, a megabyte of caption never reaches the resolver.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.language import ArgumentNode
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import PreExecutionError

from resolvers import account, comment, ids, message, post, user
from resolvers.errors import BadUserInput

PAYLOAD_ERROR_ROOM = 4
ID_BOUND = 128  # a global id is base64 of "Comment:" and 19 digits: 40 characters
CURSOR_BOUND = 256  # the longest cursor (a signed feed cursor: three keys and a MAC) is ~110
# A username is at most 30 characters (resolvers/account.py); room for the "@" and spaces
# a client pasted, which the lookup strips.
USERNAME_ARGUMENT_BOUND = 64
# The search reads the first MAX_SEARCH_QUERY_LENGTH characters: a longer paste is cut,
# not refused, up to this.
SEARCH_QUERY_BOUND = PAYLOAD_ERROR_ROOM * user.MAX_SEARCH_QUERY_LENGTH
HASHTAG_NAME_BOUND = 128  # a hashtag is "#" and up to 100 word characters (resolvers/post.py)
CONTENT_TYPE_BOUND = 128  # the accepted types are short ("video/mp4"); room for parameters
USERNAME_INPUT_BOUND = PAYLOAD_ERROR_ROOM * 30  # the username pattern's 30 characters
TYPE_NAME_BOUND = 128  # introspection's __type(name:): our type names are under 30

STRING_BOUNDS: Mapping[str, int] = {
    "Query.__type.name": TYPE_NAME_BOUND,  # a meta field: in no type's field map
    "Query.user.username": USERNAME_ARGUMENT_BOUND,
    "Query.searchUsers.query": SEARCH_QUERY_BOUND,
    "Query.hashtag.name": HASHTAG_NAME_BOUND,
    **dict.fromkeys(
        (
            f"{connection}.after"
            for connection in "Query.feed Query.explore Query.followRequests Hashtag.posts "
            "Post.comments Comment.replies User.followers User.following User.posts "
            "Query.threads Query.notifications Story.viewers Query.reels Reel.comments".split()
        ),
        CURSOR_BOUND,
    ),
    "SignUpInput.username": USERNAME_INPUT_BOUND,
    "SignUpInput.email": PAYLOAD_ERROR_ROOM * account.MAX_EMAIL_LENGTH,
    "SignUpInput.password": PAYLOAD_ERROR_ROOM * account.MAX_PASSWORD_LENGTH,
    "LogInInput.login": PAYLOAD_ERROR_ROOM * account.MAX_LOGIN_LENGTH,
    "LogInInput.password": PAYLOAD_ERROR_ROOM * account.MAX_PASSWORD_LENGTH,
    "UpdateProfileInput.displayName": PAYLOAD_ERROR_ROOM * account.MAX_DISPLAY_NAME_LENGTH,
    "UpdateProfileInput.bio": PAYLOAD_ERROR_ROOM * account.MAX_BIO_LENGTH,
    "CreateUploadInput.contentType": CONTENT_TYPE_BOUND,
    "CreatePostInput.caption": PAYLOAD_ERROR_ROOM * post.MAX_CAPTION_LENGTH,
    "CreatePostInput.clientMutationId": PAYLOAD_ERROR_ROOM * ids.MAX_RETRY_KEY_LENGTH,
    "CreateReelInput.caption": PAYLOAD_ERROR_ROOM * post.MAX_CAPTION_LENGTH,
    "CreateReelInput.clientMutationId": PAYLOAD_ERROR_ROOM * ids.MAX_RETRY_KEY_LENGTH,
    "AddCommentInput.text": PAYLOAD_ERROR_ROOM * comment.MAX_COMMENT_LENGTH,
    "SendMessageInput.text": PAYLOAD_ERROR_ROOM * message.MAX_MESSAGE_LENGTH,
    "SendMessageInput.clientId": PAYLOAD_ERROR_ROOM * ids.MAX_RETRY_KEY_LENGTH,
}

LIST_BOUNDS: Mapping[str, int] = {
    "CreatePostInput.uploadIds": PAYLOAD_ERROR_ROOM * post.MAX_MEDIA_PER_POST,
    "SendMessageInput.recipientIds": PAYLOAD_ERROR_ROOM * message.MAX_RECIPIENTS,
}


def first_oversized_input(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
) -> GraphQLError | None:
    """The error for the first string or list of the request over its bound, if any.

    The document must be valid: every argument and input field it names exists."""
    visitor = _BoundsVisitor(TypeInfo(schema), variables)
    visit(document, TypeInfoVisitor(visitor.type_info, visitor))
    return visitor.error


class InputBounds(SchemaExtension):
    """Runs the check once the document is valid, before execution coerces anything."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.result is None:
            error = first_oversized_input(
                context.schema._schema, context.graphql_document, context.variables or {}
            )
            if error is not None:
                context.result = PreExecutionError(data=None, errors=[error])
        yield


class _BoundsVisitor(Visitor):
    def __init__(self, type_info: TypeInfo, variables: Mapping[str, Any]) -> None:
        super().__init__()
        self.type_info = type_info
        self.variables = variables
        self.error: GraphQLError | None = None

    def enter_argument(
        self, node: ArgumentNode, _key: object, _parent: object, _path: object, ancestors: list[Any]
    ) -> object:
        argument = self.type_info.get_argument()
        parent = self.type_info.get_parent_type()
        field = ancestors[-1] if ancestors else None
        if argument is None or parent is None or not isinstance(field, FieldNode):
            return None  # a directive's argument (@include, @skip: Booleans)
        coordinate = f"{parent.name}.{field.name.value}.{node.name.value}"
        self.error = self._literal(node.value, argument.type, coordinate)
        return self.BREAK if self.error is not None else None

    def _literal(
        self, node: ValueNode, type_: GraphQLInputType, coordinate: str
    ) -> GraphQLError | None:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name not in self.variables:
                return None  # the default value: a literal of the document, bounded with it
            return self._raw(self.variables[name], type_, coordinate)
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            items = node.values if isinstance(node, ListValueNode) else (node,)
            return _too_many(len(items), coordinate) or _first(
                self._literal(item, type_.of_type, coordinate) for item in items
            )
        if isinstance(type_, GraphQLInputObjectType) and isinstance(node, ObjectValueNode):
            fields = type_.fields
            return _first(
                self._literal(item.value, fields[name].type, f"{type_.name}.{name}")
                for item in node.fields
                if (name := item.name.value) in fields
            )
        if isinstance(type_, GraphQLScalarType) and isinstance(node, StringValueNode):
            return _too_long(len(node.value), type_, coordinate)
        return None

    def _raw(self, value: object, type_: GraphQLInputType, coordinate: str) -> GraphQLError | None:
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            items = value if isinstance(value, list) else [value]
            return _too_many(len(items), coordinate) or _first(
                self._raw(item, type_.of_type, coordinate) for item in items
            )
        if isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
            return _first(
                self._raw(item, type_.fields[name].type, f"{type_.name}.{name}")
                for name, item in value.items()
                if name in type_.fields
            )
        if isinstance(type_, GraphQLScalarType) and isinstance(value, str):
            return _too_long(len(value), type_, coordinate)
        return None


def _first(errors: Iterator[GraphQLError | None]) -> GraphQLError | None:
    return next((error for error in errors if error is not None), None)


def _too_many(count: int, coordinate: str) -> GraphQLError | None:
    bound = LIST_BOUNDS[coordinate]
    if count <= bound:
        return None
    return BadUserInput(f"`{coordinate}` takes at most {bound:,} items.")


def _too_long(length: int, type_: GraphQLScalarType, coordinate: str) -> GraphQLError | None:
    if type_.name == "ID":
        bound = ID_BOUND
    elif type_.name == "String":
        bound = STRING_BOUNDS[coordinate]
    else:
        return None
    if length <= bound:
        return None
    return BadUserInput(f"`{coordinate}` takes at most {bound:,} characters.")
