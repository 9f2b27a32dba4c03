"""Per-request DataLoaders (aiodataloader): every read of a resolver is batched and memoised,
and every user, post, comment, story, thread, message and notification is filtered by
the visibility policy (loaders/visibility.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from loaders.base import StoreLoader
from loaders.block import BlockedByUserIdLoader
from loaders.comment import CommentByIdLoader, UnfilteredCommentByIdLoader
from loaders.follow import FollowStateByUserIdLoader, FollowsViewerByUserIdLoader
from loaders.like import LikedByPostIdLoader
from loaders.message import (
    MessageByIdLoader,
    ThreadByIdLoader,
    UnfilteredMessageByIdLoader,
    UnfilteredThreadByIdLoader,
)
from loaders.notification import (
    NotificationByIdLoader,
    ReadKeyByUserIdLoader,
    UnfilteredNotificationByIdLoader,
)
from loaders.post import PostByIdLoader, UnfilteredPostByIdLoader
from loaders.shared import (
    SharedBlockedByUserIdLoader,
    SharedFollowStateByUserIdLoader,
    SharedReads,
)
from loaders.story import SeenByStoryIdLoader, StoryByIdLoader, UnfilteredStoryByIdLoader
from loaders.user import UnfilteredUserByIdLoader, UserByIdLoader
from loaders.visibility import Visibility
from storage.stores import Stores


@dataclass(frozen=True, slots=True)
class UnfilteredLoaders:
    """Records as stored, whoever the viewer: for mutations and internal checks that must
    see past the policy (the account a block names, a comment its post's author deletes).
    What they return never goes to a field as it is."""

    user_by_id: UnfilteredUserByIdLoader
    post_by_id: UnfilteredPostByIdLoader
    comment_by_id: UnfilteredCommentByIdLoader
    story_by_id: UnfilteredStoryByIdLoader
    thread_by_id: UnfilteredThreadByIdLoader
    message_by_id: UnfilteredMessageByIdLoader
    notification_by_id: UnfilteredNotificationByIdLoader


class Loaders:
    """One set per HTTP request, or per subscription event: never shared between them.

    Each loader is made when first used, and is then the one this set has: a subscription
    event's check touches a few of them (a like: the post, the user, the policy's blocks and
    follow states), and making all of them for each receiver of each event was most of
    what a receiver allocated."""

    def __init__(
        self,
        stores: Stores,
        viewer_id: int | None,
        clock: Callable[[], datetime],
        shared: SharedReads | None,
    ) -> None:
        self._stores = stores
        self._viewer_id = viewer_id
        self._clock = clock
        self._shared = shared

    @classmethod
    def create(
        cls,
        stores: Stores,
        viewer_id: int | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        shared: SharedReads | None = None,
    ) -> Loaders:
        """`clock` decides which stories are live (`Services.clock` in a request). `shared`:
        the reads of one event's receivers in this process (loaders/shared.py); the policy is
        the same, only the batches are shared."""
        return cls(stores, viewer_id, clock, shared)

    def _make(self, loader: type[StoreLoader[Any, Any]]) -> Any:
        return loader(self._stores, self._viewer_id)

    @cached_property
    def unfiltered(self) -> UnfilteredLoaders:
        shared = self._shared
        if shared is None:
            return UnfilteredLoaders(
                user_by_id=self._make(UnfilteredUserByIdLoader),
                post_by_id=self._make(UnfilteredPostByIdLoader),
                comment_by_id=self._make(UnfilteredCommentByIdLoader),
                story_by_id=self._make(UnfilteredStoryByIdLoader),
                thread_by_id=self._make(UnfilteredThreadByIdLoader),
                message_by_id=self._make(UnfilteredMessageByIdLoader),
                notification_by_id=self._make(UnfilteredNotificationByIdLoader),
            )
        return UnfilteredLoaders(
            user_by_id=shared.user_by_id,
            post_by_id=shared.post_by_id,
            comment_by_id=shared.comment_by_id,
            story_by_id=shared.story_by_id,
            thread_by_id=shared.thread_by_id,
            message_by_id=shared.message_by_id,
            notification_by_id=shared.notification_by_id,
        )

    @cached_property
    def blocked_by_user_id(self) -> BlockedByUserIdLoader:
        if self._shared is None:
            loader: BlockedByUserIdLoader = self._make(BlockedByUserIdLoader)
            return loader
        return SharedBlockedByUserIdLoader(self._shared, self._viewer_id)

    @cached_property
    def follow_state_by_user_id(self) -> FollowStateByUserIdLoader:
        if self._shared is None:
            loader: FollowStateByUserIdLoader = self._make(FollowStateByUserIdLoader)
            return loader
        return SharedFollowStateByUserIdLoader(self._shared, self._viewer_id)

    @cached_property
    def visibility(self) -> Visibility:
        return Visibility(
            self._viewer_id, self.blocked_by_user_id, self.follow_state_by_user_id, self._clock
        )

    @cached_property
    def user_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self.unfiltered.user_by_id, self.visibility)

    @cached_property
    def post_by_id(self) -> PostByIdLoader:
        return PostByIdLoader(
            self.unfiltered.post_by_id, self.unfiltered.user_by_id, self.visibility
        )

    @cached_property
    def thread_by_id(self) -> ThreadByIdLoader:
        return ThreadByIdLoader(self.unfiltered.thread_by_id, self.visibility)

    @cached_property
    def comment_by_id(self) -> CommentByIdLoader:
        return CommentByIdLoader(self.unfiltered.comment_by_id, self.post_by_id, self.user_by_id)

    @cached_property
    def message_by_id(self) -> MessageByIdLoader:
        return MessageByIdLoader(self.unfiltered.message_by_id, self.thread_by_id)

    @cached_property
    def story_by_id(self) -> StoryByIdLoader:
        return StoryByIdLoader(
            self.unfiltered.story_by_id, self.unfiltered.user_by_id, self.visibility
        )

    @cached_property
    def notification_by_id(self) -> NotificationByIdLoader:
        return NotificationByIdLoader(
            self.unfiltered.notification_by_id,
            self._viewer_id,
            self.user_by_id,
            self.post_by_id,
            self.comment_by_id,
            self.message_by_id,
        )

    @cached_property
    def read_key_by_user_id(self) -> ReadKeyByUserIdLoader:
        loader: ReadKeyByUserIdLoader = self._make(ReadKeyByUserIdLoader)
        return loader

    @cached_property
    def follows_viewer_by_user_id(self) -> FollowsViewerByUserIdLoader:
        loader: FollowsViewerByUserIdLoader = self._make(FollowsViewerByUserIdLoader)
        return loader

    @cached_property
    def liked_by_post_id(self) -> LikedByPostIdLoader:
        loader: LikedByPostIdLoader = self._make(LikedByPostIdLoader)
        return loader

    @cached_property
    def seen_by_story_id(self) -> SeenByStoryIdLoader:
        loader: SeenByStoryIdLoader = self._make(SeenByStoryIdLoader)
        return loader
