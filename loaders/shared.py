"""Reads shared by every receiver of one event in this process.

When one event reaches many subscribers here (a like on a post a thousand sockets watch),
each receiver still gets loaders of its own, made for that event (`Loaders.create(...,
shared=...)`), and the policy of loaders/visibility.py decides what it may see, as for any
request. What those loaders read goes through this one set: the records are viewer-free, so
one load serves everyone, and the per-viewer facts (blocks, follow states) are loaded as
(viewer, user) pairs, so the checks of all the receivers that handle the event together are
one batched read, not one per receiver. `audience` asks the policy about all of them at once
(resolvers/delivery.py): a block through the one cached list of the accounts a user blocked
or was blocked by, whoever the receivers are.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from loaders.base import StoreLoader
from loaders.block import BlockedByUserIdLoader
from loaders.comment import UnfilteredCommentByIdLoader
from loaders.follow import FollowStateByUserIdLoader
from loaders.message import UnfilteredMessageByIdLoader, UnfilteredThreadByIdLoader
from loaders.notification import UnfilteredNotificationByIdLoader
from loaders.post import UnfilteredPostByIdLoader
from loaders.story import UnfilteredStoryByIdLoader
from loaders.user import UnfilteredUserByIdLoader
from loaders.visibility import Audience
from storage.cache import Pair
from storage.follow import FollowState
from storage.stores import Stores


class BlockedByPairLoader(StoreLoader[Pair, bool]):
    """Whether the two users of each pair have blocked one another, either way."""

    async def batch_load_fn(self, keys: Sequence[Pair]) -> list[bool]:
        blocked = await self._stores.blocks.blocked_pairs(keys)
        return [(min(key), max(key)) in blocked for key in keys]


class BlockedIdsByUserIdLoader(StoreLoader[int, frozenset[int]]):
    """The accounts each user blocked or was blocked by."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[frozenset[int]]:
        ids = await self._stores.blocks.ids_either_way_of(keys)
        return [ids[key] for key in keys]


class FollowStateByPairLoader(StoreLoader[Pair, FollowState]):
    """How the first user of each pair follows the second."""

    async def batch_load_fn(self, keys: Sequence[Pair]) -> list[FollowState]:
        states = await self._stores.follows.states(keys)
        return [states[key] for key in keys]


class SharedReads:
    """The loaders every receiver of one event reads through (see the module)."""

    def __init__(self, stores: Stores, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.stores = stores
        self.clock = clock  # the policy's, for the loaders made for the event's receivers
        self.user_by_id = UnfilteredUserByIdLoader(stores, None)
        self.post_by_id = UnfilteredPostByIdLoader(stores, None)
        self.comment_by_id = UnfilteredCommentByIdLoader(stores, None)
        self.story_by_id = UnfilteredStoryByIdLoader(stores, None)
        self.thread_by_id = UnfilteredThreadByIdLoader(stores, None)
        self.message_by_id = UnfilteredMessageByIdLoader(stores, None)
        self.notification_by_id = UnfilteredNotificationByIdLoader(stores, None)
        self.blocked_by_pair = BlockedByPairLoader(stores, None)
        self.blocked_ids_by_user_id = BlockedIdsByUserIdLoader(stores, None)
        self.follow_state_by_pair = FollowStateByPairLoader(stores, None)
        # The policy for all the receivers at once.
        self.audience = Audience(
            self.blocked_ids_by_user_id, self.blocked_by_pair, self.follow_state_by_pair
        )


class SharedBlockedByUserIdLoader(BlockedByUserIdLoader):
    """`BlockedByUserIdLoader` for one viewer, read through the event's pair loader."""

    def __init__(self, shared: SharedReads, viewer_id: int | None) -> None:
        super().__init__(shared.stores, viewer_id)
        self._pairs = shared.blocked_by_pair

    async def batch_load_fn(self, keys: Sequence[int]) -> list[bool]:
        if self._viewer_id is None:
            return await super().batch_load_fn(keys)
        return await self._pairs.load_many([(self._viewer_id, key) for key in keys])


class SharedFollowStateByUserIdLoader(FollowStateByUserIdLoader):
    """`FollowStateByUserIdLoader` for one viewer, read through the event's pair loader."""

    def __init__(self, shared: SharedReads, viewer_id: int | None) -> None:
        super().__init__(shared.stores, viewer_id)
        self._pairs = shared.follow_state_by_pair

    async def batch_load_fn(self, keys: Sequence[int]) -> list[FollowState]:
        if self._viewer_id is None:
            return await super().batch_load_fn(keys)
        return await self._pairs.load_many([(self._viewer_id, key) for key in keys])


class SharedReadsByEvent:
    """This process's `SharedReads`, one per event being handled: made by the first
    receiver of an event, used by every receiver handling it at the same time, and dropped
    when the last lets go, so a receiver that comes later reads afresh."""

    def __init__(self) -> None:
        self._held: dict[Hashable, tuple[SharedReads, int]] = {}

    @contextmanager
    def hold(
        self,
        event: Hashable,
        stores: Stores,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Iterator[SharedReads]:
        reads, holders = self._held.get(event, (None, 0))
        if reads is None or reads.stores is not stores:
            reads, holders = SharedReads(stores, clock), 0
        self._held[event] = (reads, holders + 1)
        try:
            yield reads
        finally:
            current, holders = self._held.get(event, (None, 0))
            if current is reads:
                if holders <= 1:
                    del self._held[event]
                else:
                    self._held[event] = (reads, holders - 1)

    def __len__(self) -> int:
        return len(self._held)
