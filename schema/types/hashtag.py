"""Hashtags and the posts that carry them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import post as post_resolvers
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.types.common import Connection, Info, to_connection

if TYPE_CHECKING:
    from schema.types.post import Post

PostType = Annotated["Post", strawberry.lazy("schema.types.post")]


@strawberry.type
class Hashtag:
    name: str
    post_count: int

    @strawberry.field(description="Posts with this hashtag, newest first.")
    async def posts(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[PostType]:
        from schema.types.post import Post

        page = await post_resolvers.posts_by_hashtag(info.context, self.name, first, after)
        return to_connection(page, Post.wrap)
