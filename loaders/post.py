"""Per-request loaders of posts: as stored, and as the viewer may see them."""

from __future__ import annotations

from collections.abc import Sequence

from loaders.base import StoreLoader
from loaders.user import UnfilteredUserByIdLoader
from loaders.visibility import FilteredLoader, Visibility, post_shown
from storage.post import PostRecord


class UnfilteredPostByIdLoader(StoreLoader[int, PostRecord | None]):
    """Posts as stored, whoever the viewer: see `Loaders.unfiltered`."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[PostRecord | None]:
        found = await self._stores.posts.find_by_ids(keys)
        return [found.get(key) for key in keys]


class PostByIdLoader(FilteredLoader[PostRecord]):
    """Posts the viewer may see: None for one whose author's content is hidden from them, or
    a reel whose video is not READY, but to its author."""

    def __init__(
        self,
        unfiltered: UnfilteredPostByIdLoader,
        authors: UnfilteredUserByIdLoader,
        visibility: Visibility,
    ) -> None:
        super().__init__(unfiltered)
        self._authors = authors
        self._visibility = visibility

    async def allowed(self, records: list[PostRecord]) -> list[bool]:
        loaded = await self._authors.load_many([post.author_id for post in records])
        authors = [author for author in loaded if author is not None]
        shown = await self._visibility.contents_visible(authors)
        open_authors = {author.id for author, ok in zip(authors, shown, strict=True) if ok}
        return [
            post_shown(self._visibility.viewer_id, post, post.author_id in open_authors)
            for post in records
        ]
