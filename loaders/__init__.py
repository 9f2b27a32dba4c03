"""Per-request DataLoaders (aiodataloader): every read of a resolver is batched and memoised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loaders.base import StoreLoader
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
        def make(loader: type[StoreLoader[Any, Any]]) -> Any:
            return loader(stores, viewer_id)

        return cls(
            user_by_id=make(UserByIdLoader),
            follow_state_by_user_id=make(FollowStateByUserIdLoader),
            follows_viewer_by_user_id=make(FollowsViewerByUserIdLoader),
            blocked_by_user_id=make(BlockedByUserIdLoader),
            post_by_id=make(PostByIdLoader),
            comment_by_id=make(CommentByIdLoader),
            liked_by_post_id=make(LikedByPostIdLoader),
        )
