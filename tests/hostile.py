"""Hostile requests, each with the answer the server must give: shared by the tests and
`bench/hostile.py`. Add a shape to HOSTILE_SHAPES and both send it."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from app.request_limits import MAX_BODY_BYTES, MAX_QUERY_STRING_BYTES, MAX_VARIABLES_BYTES
from schema.documents import MAX_DOCUMENT_CHARACTERS
from schema.input_bounds import LIST_BOUNDS, SEARCH_QUERY_BOUND, TYPE_NAME_BOUND

JSON_HEADERS = {"content-type": "application/json"}
HUGE_BODY_BYTES = 100 * 1024 * 1024  # what the issue sent: never read, whatever it declares
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


@dataclass(frozen=True)
class HostileShape:
    name: str
    send: Callable[[httpx.AsyncClient], Awaitable[Answer]]  # a client of the server
    status: int  # what the server must answer
    code: str | None = None  # the GraphQL error code, when the answer is a GraphQL error


async def _post(http: httpx.AsyncClient, content: bytes, headers: dict[str, str]) -> Answer:
    response = await http.post("/graphql", content=content, headers=headers)
    return Answer(response.status_code, response.text)


def posting(
    content: bytes, content_type: str = "application/json"
) -> Callable[[httpx.AsyncClient], Awaitable[Answer]]:
    return lambda http: _post(http, content, {"content-type": content_type})


def getting(params: dict[str, str]) -> Callable[[httpx.AsyncClient], Awaitable[Answer]]:
    async def send(http: httpx.AsyncClient) -> Answer:
        response = await http.get("/graphql", params=params, headers={"accept": "application/json"})
        return Answer(response.status_code, response.text)

    return send


async def _raw_exchange(
    http: httpx.AsyncClient, head: bytes, body_chunks: Callable[[], bytes | None]
) -> Answer:
    """Send `head`, then chunks until the server answers (or the chunks end); the answer's
    status. The server must answer before the body is all sent."""
    reader, writer = await asyncio.open_connection(http.base_url.host, http.base_url.port)
    try:
        writer.write(head)
        answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
        while not answer.done():
            chunk = body_chunks()
            if chunk is None:
                break
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0)
        status_line = (await answer).split(b"\r\n", 1)[0].decode()
        return Answer(int(status_line.split()[1]), status_line)
    finally:
        writer.close()


def _chunks(total: int, framed: bool) -> Callable[[], bytes | None]:
    sent = 0

    def next_chunk() -> bytes | None:
        nonlocal sent
        if sent >= total:
            return b"0\r\n\r\n" if framed and sent == total else None
        sent += CHUNK_BYTES
        data = b" " * CHUNK_BYTES
        return f"{CHUNK_BYTES:x}\r\n".encode() + data + b"\r\n" if framed else data

    return next_chunk


def declared_huge_body(http: httpx.AsyncClient) -> Awaitable[Answer]:
    head = (
        b"POST /graphql HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n"
        + f"content-length: {HUGE_BODY_BYTES}\r\n\r\n".encode()
    )
    return _raw_exchange(http, head, _chunks(HUGE_BODY_BYTES, framed=False))


def chunked_huge_body(http: httpx.AsyncClient) -> Awaitable[Answer]:
    head = (
        b"POST /graphql HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n"
        b"transfer-encoding: chunked\r\n\r\n"
    )
    return _raw_exchange(http, head, _chunks(HUGE_BODY_BYTES, framed=True))


def long_query_string(http: httpx.AsyncClient) -> Awaitable[Answer]:
    """httpx refuses to send URLs over 64 KB; a hostile client does not."""
    target = "/graphql?query=%7B__typename%7D&x=" + "a" * MAX_QUERY_STRING_BYTES
    head = f"GET {target} HTTP/1.1\r\nhost: test\r\naccept: application/json\r\n\r\n"
    return _raw_exchange(http, head.encode(), lambda: None)


def create_post_literal(upload_count: int) -> str:
    ids = ",".join(['\\"1\\"'] * upload_count)
    return f"mutation {{ createPost(input: {{uploadIds: [{ids}]}}) {{ errors {{ code }} }} }}"


def _cursor(content: bytes) -> str:
    return base64.urlsafe_b64encode(content).decode()


def _json(document: str, variables: str = "{}") -> bytes:
    return f'{{"query": "{document}", "variables": {variables}}}'.encode()


SEARCH = "query ($q: String!) { searchUsers(query: $q) { edges { cursor } } }"
CREATE_POST = "mutation ($ids: [ID!]!) { createPost(input: {uploadIds: $ids}) { errors { code } } }"
# The account whose posts the cursor shapes page through (see prepare).
TARGET_USERNAME = "hostile_target"


def user_posts_after(cursor: str) -> str:
    return f'{{ user(username: \\"{TARGET_USERNAME}\\") {{ posts(after: \\"{cursor}\\") {{ edges {{ cursor }} }} }} }}'


async def prepare(http: httpx.AsyncClient) -> None:
    """Make what the shapes need on a fresh server: the target account (once)."""
    response = await http.post(
        "/graphql",
        json={
            "query": "mutation ($u: String!) { signUp(input: {username: $u, "
            'email: "hostile_target@example.com", password: "hostile target password"}) '
            "{ errors { code } } }",
            "variables": {"u": TARGET_USERNAME},
        },
    )
    response.raise_for_status()


HOSTILE_SHAPES: list[HostileShape] = [
    HostileShape("body of 100 MB, declared", declared_huge_body, 413),
    HostileShape("body of 100 MB, chunked", chunked_huge_body, 413),
    HostileShape("body just over the limit", posting(b" " * (MAX_BODY_BYTES + 1)), 413),
    HostileShape("body null", posting(b"null"), 400),
    HostileShape('body "hello"', posting(b'"hello"'), 400),
    HostileShape("body [] (batching is off)", posting(b"[]"), 400),
    HostileShape("body a number", posting(b"5"), 400),
    HostileShape("body invalid UTF-8", posting(b'{"query": "{ viewer { id } }\xff"}'), 400),
    HostileShape("body a lone surrogate", posting(b'{"query": "\\ud800"}'), 400),
    HostileShape("body nested 100,000 deep", posting(b"[" * 100_000), 400),
    HostileShape("body not JSON", posting(b"{query: viewer}"), 400),
    HostileShape("body empty", posting(b""), 400),
    HostileShape(
        "content type text/plain", posting(b'{"query": "{ viewer { id } }"}', "text/plain"), 400
    ),
    HostileShape(
        "content type form", posting(b"query=%7B%7D", "application/x-www-form-urlencoded"), 400
    ),
    HostileShape(
        "multipart upload (off)", posting(b"--x--\r\n", "multipart/form-data; boundary=x"), 400
    ),
    HostileShape("query missing", posting(b'{"variables": {}}'), 400),
    HostileShape("query a number", posting(b'{"query": 1}'), 400),
    HostileShape("query an object", posting(b'{"query": {"a": 1}}'), 400),
    HostileShape(
        "variables a list", posting(b'{"query": "{ viewer { id } }", "variables": [1]}'), 400
    ),
    HostileShape(
        "variables a string", posting(b'{"query": "{ viewer { id } }", "variables": "{}"}'), 400
    ),
    HostileShape(
        "operationName a number",
        posting(b'{"query": "{ viewer { id } }", "operationName": 5}'),
        400,
    ),
    HostileShape(
        "extensions a list", posting(b'{"query": "{ viewer { id } }", "extensions": []}'), 400
    ),
    HostileShape(
        "GET variables not JSON", getting({"query": "{ viewer { id } }", "variables": "{"}), 400
    ),
    HostileShape(
        "GET variables a list", getting({"query": "{ viewer { id } }", "variables": "[]"}), 400
    ),
    HostileShape(
        "GET extensions not JSON", getting({"query": "{ viewer { id } }", "extensions": "x"}), 400
    ),
    HostileShape("GET a mutation", getting({"query": "mutation { logOut { ok } }"}), 400),
    HostileShape("GET query string over the limit", long_query_string, 414),
    HostileShape(
        "variables over the limit",
        posting(_json(SEARCH, f'{{"q": "a", "pad": "{"a" * MAX_VARIABLES_BYTES}"}}')),
        413,
    ),
    HostileShape(
        "document over the limit (a long comment)",
        posting(_json("{ __typename } #" + "a" * MAX_DOCUMENT_CHARACTERS)),
        200,
        "BAD_USER_INPUT",
    ),
    HostileShape(
        "search string over its bound",
        posting(_json(SEARCH, f'{{"q": "{"a" * (SEARCH_QUERY_BOUND + 1)}"}}')),
        200,
        "BAD_USER_INPUT",
    ),
    HostileShape("an empty selection set (a syntax error)", posting(_json("{ viewer { } }")), 200),
    HostileShape(
        "introspection's type name over its bound",
        posting(_json(f'{{ __type(name: \\"{"T" * (TYPE_NAME_BOUND + 1)}\\") {{ name }} }}')),
        200,
        "BAD_USER_INPUT",
    ),
    HostileShape(
        "list of 10,000 upload ids",
        posting(_json(CREATE_POST, json.dumps({"ids": ["1"] * 10_000}))),
        200,
        "BAD_USER_INPUT",
    ),
    HostileShape(
        "list one over its bound, in the document",
        posting(_json(create_post_literal(LIST_BOUNDS["CreatePostInput.uploadIds"] + 1))),
        200,
        "BAD_USER_INPUT",
    ),
    *(
        HostileShape(
            f"cursor {name}",
            posting(_json(user_posts_after(cursor))),
            200,
            "BAD_USER_INPUT",
        )
        for name, cursor in [
            ("of superscript digits", _cursor("k:²".encode())),
            ("of 200 digits", _cursor(b"k:" + b"5" * 200)),
            ("over 64 bits", _cursor(b"k:%d" % (1 << 63))),
            ("not base64", "!!!"),
            ("of non-ASCII", "é"),
            ("of bytes that are not UTF-8", _cursor(b"k:\xff")),
        ]
    ),
]
