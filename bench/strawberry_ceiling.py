"""The ceiling for the stack the customer fixed: strawberry executing the read-path page over
pre-built objects (plain attribute fields, no loaders, no I/O), against graphql-core over
dicts, in one run. It tells how much of the read path's gap to graphql-core strawberry alone
accounts for. The schema caches parsed and validated documents as Pictograph's does
(`--no-caches` leaves that out, as a plain `strawberry.Schema` does).

Run: `.venv/bin/python -m bench.strawberry_ceiling`
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
import typer
from graphql import build_schema as build_sdl_schema
from graphql import execute, parse
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache

from bench.dataset import POST_PAGE_QUERY as QUERY
from bench.read_path import DEFAULT_SIZES, STACK_OFFSETS, beneath_frames

REQUESTS = 300  # per page size, spread over the passes
POSTS = max(DEFAULT_SIZES)


@strawberry.type
class User:
    id: strawberry.ID
    username: str
    display_name: str
    avatar_url: str | None


@strawberry.type
class Media:
    id: strawberry.ID
    type: str
    url: str
    width: int
    height: int


@strawberry.type
class Comment:
    id: strawberry.ID
    text: str
    author: User


@strawberry.type
class CommentEdge:
    node: Comment


@strawberry.type
class CommentConnection:
    edges: list[CommentEdge]


@strawberry.type
class Post:
    id: strawberry.ID
    caption: str
    created_at: datetime
    author: User
    media: list[Media]
    like_count: int
    comment_count: int
    viewer_has_liked: bool
    preview: strawberry.Private[CommentConnection]

    @strawberry.field
    def comments(self, first: int) -> CommentConnection:
        return self.preview


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PostConnection:
    edges: list[PostEdge]
    page_info: PageInfo


@strawberry.type
class Hashtag:
    all_posts: strawberry.Private[list[PostEdge]]

    @strawberry.field
    def posts(self, first: int) -> PostConnection:
        return PostConnection(
            edges=self.all_posts[:first], page_info=PageInfo(has_next_page=True, end_cursor="c")
        )


def user(number: int) -> User:
    return User(
        id=strawberry.ID(f"u{number}"), username=f"u{number}", display_name="", avatar_url=None
    )


def post_edges() -> list[PostEdge]:
    edges = []
    for number in range(POSTS):
        comments = [
            CommentEdge(
                node=Comment(id=strawberry.ID(f"c{number}.{k}"), text="nice", author=user(k))
            )
            for k in range(2)
        ]
        post = Post(
            id=strawberry.ID(f"p{number}"),
            caption="a caption",
            created_at=datetime.now(UTC),
            author=user(number),
            media=[Media(id=strawberry.ID(f"m{number}"), type="IMAGE", url="u", width=1, height=1)],
            like_count=1,
            comment_count=3,
            viewer_has_liked=False,
            preview=CommentConnection(edges=comments),
        )
        edges.append(PostEdge(cursor=f"c{number}", node=post))
    return edges


async def seconds_for(run: Callable[[], Awaitable[object]], requests: int) -> float:
    for _ in range(5):
        await run()
    started = time.perf_counter()
    for _ in range(requests):
        await run()
    return time.perf_counter() - started


async def one_pass(caches: bool, requests: int) -> dict[int, tuple[float, float]]:
    """Seconds that `requests` requests take, strawberry and graphql-core, per page size."""
    edges = post_edges()

    @strawberry.type
    class Query:
        @strawberry.field
        def hashtag(self, name: str) -> Hashtag:
            return Hashtag(all_posts=edges)

    extensions: list[type[SchemaExtension]] = [ParserCache, ValidationCache] if caches else []
    schema = strawberry.Schema(Query, extensions=extensions)
    sdl_schema, document = build_sdl_schema(schema.as_str()), parse(QUERY)
    seconds = {}
    for size in DEFAULT_SIZES:
        result = await schema.execute(QUERY, variable_values={"tag": "x", "first": size})
        assert result.errors is None, result.errors
        data: Any = result.data

        async def strawberry_request(size: int = size) -> object:
            return await schema.execute(QUERY, variable_values={"tag": "x", "first": size})

        async def graphql_core_request(size: int = size, data: Any = data) -> object:
            return execute(
                sdl_schema, document, root_value=data, variable_values={"tag": "x", "first": size}
            )

        seconds[size] = (
            await seconds_for(strawberry_request, requests),
            await seconds_for(graphql_core_request, requests),
        )
    return seconds


def main(
    caches: Annotated[bool, typer.Option(help="Cache parsed and validated documents.")] = True,
) -> None:
    """Pooled over passes beneath different stack depths, as bench.read_path explains."""
    per_pass = REQUESTS // len(STACK_OFFSETS)
    totals = {size: [0.0, 0.0] for size in DEFAULT_SIZES}
    for frames in STACK_OFFSETS:
        measured = beneath_frames(
            frames, functools.partial(asyncio.run, one_pass(caches, per_pass))
        )
        for size, (ours, ceiling) in measured.items():
            totals[size][0] += ours
            totals[size][1] += ceiling
    requests = per_pass * len(STACK_OFFSETS)
    print("posts  strawberry req/s  graphql-core req/s  ratio")
    for size, (ours, ceiling) in totals.items():
        print(
            f"{size:5}  {requests / ours:17.0f}  {requests / ceiling:18.0f}  {ceiling / ours:5.2f}"
        )


if __name__ == "__main__":
    typer.run(main)
