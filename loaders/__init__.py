"""Per-request DataLoaders (aiodataloader): every read of a resolver is batched and memoised,
and every user, post, comment, story, thread, message and notification is filtered by
the visibility policy (loaders/visibility.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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


@dataclass(frozen=True, slots=True)
class Loaders:
    """One set per HTTP request, or per subscription event: never shared between them."""

    user_by_id: UserByIdLoader
    post_by_id: PostByIdLoader
    comment_by_id: CommentByIdLoader
    story_by_id: StoryByIdLoader
    thread_by_id: ThreadByIdLoader
    message_by_id: MessageByIdLoader
    notification_by_id: NotificationByIdLoader
    read_key_by_user_id: ReadKeyByUserIdLoader
    follow_state_by_user_id: FollowStateByUserIdLoader
    follows_viewer_by_user_id: FollowsViewerByUserIdLoader
    blocked_by_user_id: BlockedByUserIdLoader
    liked_by_post_id: LikedByPostIdLoader
    seen_by_story_id: SeenByStoryIdLoader
    visibility: Visibility
    unfiltered: UnfilteredLoaders

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

        def make(loader: type[StoreLoader[Any, Any]]) -> Any:
            return loader(stores, viewer_id)

        blocked_by_user_id: BlockedByUserIdLoader
        follow_state_by_user_id: FollowStateByUserIdLoader
        if shared is None:
            unfiltered = UnfilteredLoaders(
                user_by_id=make(UnfilteredUserByIdLoader),
                post_by_id=make(UnfilteredPostByIdLoader),
                comment_by_id=make(UnfilteredCommentByIdLoader),
                story_by_id=make(UnfilteredStoryByIdLoader),
                thread_by_id=make(UnfilteredThreadByIdLoader),
                message_by_id=make(UnfilteredMessageByIdLoader),
                notification_by_id=make(UnfilteredNotificationByIdLoader),
            )
            blocked_by_user_id = make(BlockedByUserIdLoader)
            follow_state_by_user_id = make(FollowStateByUserIdLoader)
        else:
            unfiltered = UnfilteredLoaders(
                user_by_id=shared.user_by_id,
                post_by_id=shared.post_by_id,
                comment_by_id=shared.comment_by_id,
                story_by_id=shared.story_by_id,
                thread_by_id=shared.thread_by_id,
                message_by_id=shared.message_by_id,
                notification_by_id=shared.notification_by_id,
            )
            blocked_by_user_id = SharedBlockedByUserIdLoader(shared, viewer_id)
            follow_state_by_user_id = SharedFollowStateByUserIdLoader(shared, viewer_id)
        visibility = Visibility(viewer_id, blocked_by_user_id, follow_state_by_user_id, clock)
        users = UserByIdLoader(unfiltered.user_by_id, visibility)
        posts = PostByIdLoader(unfiltered.post_by_id, unfiltered.user_by_id, visibility)
        threads = ThreadByIdLoader(unfiltered.thread_by_id, visibility)
        comments = CommentByIdLoader(unfiltered.comment_by_id, posts, users)
        messages = MessageByIdLoader(unfiltered.message_by_id, threads)
        return cls(
            user_by_id=users,
            post_by_id=posts,
            comment_by_id=comments,
            story_by_id=StoryByIdLoader(unfiltered.story_by_id, unfiltered.user_by_id, visibility),
            thread_by_id=threads,
            message_by_id=messages,
            notification_by_id=NotificationByIdLoader(
                unfiltered.notification_by_id, viewer_id, users, posts, comments, messages
            ),
            read_key_by_user_id=make(ReadKeyByUserIdLoader),
            follow_state_by_user_id=follow_state_by_user_id,
            follows_viewer_by_user_id=make(FollowsViewerByUserIdLoader),
            blocked_by_user_id=blocked_by_user_id,
            liked_by_post_id=make(LikedByPostIdLoader),
            seen_by_story_id=make(SeenByStoryIdLoader),
            visibility=visibility,
            unfiltered=unfiltered,
        )
