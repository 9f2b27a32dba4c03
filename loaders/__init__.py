"""Per-request DataLoaders (aiodataloader): every read of a resolver is batched and memoised."""

from __future__ import annotations

from dataclasses import dataclass

from loaders.post import CommentByIdLoader, LikedByPostIdLoader, PostByIdLoader
from loaders.user import (
    BlockedByUserIdLoader,
    FollowStateByUserIdLoader,
    FollowsViewerByUserIdLoader,
    UserByIdLoader,
)
from storage.stores import Stores


@dataclass(frozen=True, slots=True)
class Loaders:
    """One set per HTTP request, or per subscription event: never shared between them."""

    user_by_id: UserByIdLoader
    follow_state_by_user_id: FollowStateByUserIdLoader
    follows_viewer_by_user_id: FollowsViewerByUserIdLoader
    blocked_by_user_id: BlockedByUserIdLoader
    post_by_id: PostByIdLoader
    comment_by_id: CommentByIdLoader
    liked_by_post_id: LikedByPostIdLoader

    @classmethod
    def create(cls, stores: Stores, viewer_id: int | None) -> Loaders:
        return cls(
            user_by_id=UserByIdLoader(stores),
            follow_state_by_user_id=FollowStateByUserIdLoader(stores, viewer_id),
            follows_viewer_by_user_id=FollowsViewerByUserIdLoader(stores, viewer_id),
            blocked_by_user_id=BlockedByUserIdLoader(stores, viewer_id),
            post_by_id=PostByIdLoader(stores),
            comment_by_id=CommentByIdLoader(stores),
            liked_by_post_id=LikedByPostIdLoader(stores, viewer_id),
        )
