"""What a GraphQL request over HTTP may be before any of it is parsed or executed.

A body is read chunk by chunk and refused (413) as soon as it passes MAX_BODY_BYTES, so a
100 MB body costs no more memory than the limit, whether it declares its length or is sent
chunked. Anything that is not a GraphQL request object (`null`, `"hello"`, a list, invalid
UTF-8, JSON nested past orjson's depth limit, a `query` that is not a string...) is 400
with a reason, never an exception.
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException, StarletteRequestAdapter
from strawberry.http import GraphQLRequestData

from schema.documents import MAX_DOCUMENT_CHARACTERS

# Variables as UTF-8 JSON: the largest input, a comment or caption at its request bound
# (8,800 characters, schema/input_bounds.py) of 4-byte characters, is ~35 KB.
MAX_VARIABLES_BYTES = 64 * 1024
# A document at its limit and variables at theirs, even with every character written as a
# 6-byte JSON \u escape, fit; uploads never come through here (they go to storage).
MAX_BODY_BYTES = 6 * MAX_DOCUMENT_CHARACTERS + 2 * MAX_VARIABLES_BYTES
# A GET carries the request in its query string, percent-encoded (up to 3 bytes a
# character): room for any contract operation many times over; longer documents go by
# POST. (uvicorn's parser itself answers 400 to a request line over ~64 KB.)
MAX_QUERY_STRING_BYTES = 32 * 1024

PAYLOAD_TOO_LARGE = 413
URI_TOO_LONG = 414
BAD_REQUEST = 400


class BoundedBodyRequestAdapter(StarletteRequestAdapter):
    """Starlette's request as strawberry reads it, with the body read under MAX_BODY_BYTES."""

    async def get_body(self) -> bytes:
        declared = self._request.headers.get("content-length")
        if (
            declared is not None
            and declared.isascii()
            and declared.isdigit()
            and (int(declared) > MAX_BODY_BYTES)
        ):
            raise _body_too_large()
        chunks: list[bytes] = []
        received = 0
        # Counted as it arrives: a chunked body declares no length, and a declared one may lie.
        async for chunk in self._request.stream():
            received += len(chunk)
            if received > MAX_BODY_BYTES:
                raise _body_too_large()
            chunks.append(chunk)
        return b"".join(chunks)


def _body_too_large() -> HTTPException:
    return HTTPException(PAYLOAD_TOO_LARGE, f"Request body over {MAX_BODY_BYTES:,} bytes")


def check_query_string(query_string: bytes) -> None:
    if len(query_string) > MAX_QUERY_STRING_BYTES:
        raise HTTPException(URI_TOO_LONG, f"Query string over {MAX_QUERY_STRING_BYTES:,} bytes")


def decode_json(data: str | bytes) -> object:
    """JSON, or 400. orjson refuses invalid UTF-8, lone surrogates and nesting deeper than
    1,024 levels with a JSONDecodeError, where `json` raised UnicodeError or RecursionError."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise HTTPException(BAD_REQUEST, f"Unable to parse request body as JSON: {error}") from None


def graphql_request(data: object) -> GraphQLRequestData:
    """The request a decoded body or query string holds, or 400 saying what is wrong."""
    if isinstance(data, list):
        raise HTTPException(BAD_REQUEST, "Batching is not enabled")
    if not isinstance(data, dict):
        raise HTTPException(BAD_REQUEST, "The request must be a JSON object.")
    query = _member(data, "query", str)
    variables = _member(data, "variables", dict)
    operation_name = _member(data, "operationName", str)
    extensions = _member(data, "extensions", dict)
    if variables is not None and len(orjson.dumps(variables)) > MAX_VARIABLES_BYTES:
        raise HTTPException(PAYLOAD_TOO_LARGE, f"Variables over {MAX_VARIABLES_BYTES:,} bytes")
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=operation_name,
        extensions=extensions,
        protocol="http",
    )


_JSON_NAMES = {str: "a string", dict: "an object"}


def _member(data: dict[str, Any], name: str, kind: type[str] | type[dict[str, Any]]) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, kind):
        message = f"The GraphQL operation's `{name}` must be {_JSON_NAMES[kind]} or null."
        raise HTTPException(BAD_REQUEST, message)
    return value
