"""Per-request loaders of message threads and messages: as stored, and as the viewer may see
them (loaders/visibility.py: participants only)."""

from __future__ import annotations

from collections.abc import Sequence

from loaders.base import StoreLoader
from loaders.visibility import FilteredLoader, Visibility
from storage.message import MessageRecord, ThreadRecord


class UnfilteredThreadByIdLoader(StoreLoader[int, ThreadRecord | None]):
    """Threads as stored, whoever the viewer: see `Loaders.unfiltered`."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[ThreadRecord | None]:
        found = await self._stores.messages.find_threads_by_ids(keys)
        return [found.get(key) for key in keys]


class UnfilteredMessageByIdLoader(StoreLoader[int, MessageRecord | None]):
    """Messages as stored, whoever the viewer: see `Loaders.unfiltered`."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[MessageRecord | None]:
        found = await self._stores.messages.find_messages_by_ids(keys)
        return [found.get(key) for key in keys]


class ThreadByIdLoader(FilteredLoader[ThreadRecord]):
    """Threads the viewer takes part in: None for any other."""

    def __init__(self, unfiltered: UnfilteredThreadByIdLoader, visibility: Visibility) -> None:
        super().__init__(unfiltered)
        self._visibility = visibility

    async def allowed(self, records: list[ThreadRecord]) -> list[bool]:
        return self._visibility.threads_visible(records)


class MessageByIdLoader(FilteredLoader[MessageRecord]):
    """Messages of threads the viewer takes part in: None for any other."""

    def __init__(self, unfiltered: UnfilteredMessageByIdLoader, threads: ThreadByIdLoader) -> None:
        super().__init__(unfiltered)
        self._threads = threads

    async def allowed(self, records: list[MessageRecord]) -> list[bool]:
        threads = await self._threads.load_many([message.thread_id for message in records])
        return [thread is not None for thread in threads]
