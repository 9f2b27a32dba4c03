"""Per-request loaders of stories: as stored, as the viewer may see them (live, by an author
whose content the viewer may see), and whether the viewer has seen them."""

from __future__ import annotations

from collections.abc import Sequence

from loaders.base import StoreLoader
from loaders.user import UnfilteredUserByIdLoader
from loaders.visibility import FilteredLoader, Visibility
from storage.story import StoryRecord


class UnfilteredStoryByIdLoader(StoreLoader[int, StoryRecord | None]):
    """Stories as stored, expired or not: see `Loaders.unfiltered`."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[StoryRecord | None]:
        found = await self._stores.stories.find_by_ids(keys)
        return [found.get(key) for key in keys]


class StoryByIdLoader(FilteredLoader[StoryRecord]):
    """Stories the viewer may see: None for an expired one, or one whose author's content is
    hidden from them."""

    def __init__(
        self,
        unfiltered: UnfilteredStoryByIdLoader,
        authors: UnfilteredUserByIdLoader,
        visibility: Visibility,
    ) -> None:
        super().__init__(unfiltered)
        self._authors = authors
        self._visibility = visibility

    async def allowed(self, records: list[StoryRecord]) -> list[bool]:
        authors = await self._authors.load_many([story.author_id for story in records])
        return await self._visibility.stories_visible(records, authors)


class SeenByStoryIdLoader(StoreLoader[int, bool]):
    """Whether the viewer has marked each story seen (never, for an anonymous viewer)."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[bool]:
        if self._viewer_id is None:
            return [False] * len(keys)
        seen = await self._stores.stories.seen_story_ids(self._viewer_id, list(keys))
        return [key in seen for key in keys]
