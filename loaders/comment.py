"""Per-request loaders of comments: as stored, and as the viewer may see them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from loaders.base import StoreLoader
from loaders.post import PostByIdLoader
from loaders.user import UserByIdLoader
from loaders.visibility import FilteredLoader
from storage.comment import CommentRecord


class UnfilteredCommentByIdLoader(StoreLoader[int, CommentRecord | None]):
    """Comments as stored, whoever the viewer: see `Loaders.unfiltered`."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[CommentRecord | None]:
        found = await self._stores.comments.find_by_ids(keys)
        return [found.get(key) for key in keys]


class CommentByIdLoader(FilteredLoader[CommentRecord]):
    """Comments the viewer may see: None for one on a hidden post or by a hidden author."""

    def __init__(
        self,
        unfiltered: UnfilteredCommentByIdLoader,
        posts: PostByIdLoader,
        users: UserByIdLoader,
    ) -> None:
        super().__init__(unfiltered)
        self._posts = posts
        self._users = users

    async def allowed(self, records: list[CommentRecord]) -> list[bool]:
        posts, authors = await asyncio.gather(
            self._posts.load_many([comment.post_id for comment in records]),
            self._users.load_many([comment.author_id for comment in records]),
        )
        shown = zip(posts, authors, strict=True)
        return [post is not None and author is not None for post, author in shown]
