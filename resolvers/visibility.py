"""Who may see whom: blocks hide both ways; a private account's content needs approval."""

from __future__ import annotations

import asyncio

from resolvers.context import Context
from storage.follow import FollowState
from storage.user import UserRecord


async def can_see_user(context: Context, user: UserRecord) -> bool:
    """Whether the viewer may see `user` at all (their profile exists for the viewer)."""
    if context.viewer is None or context.viewer.id == user.id:
        return True
    return not await context.loaders.blocked_by_user_id.load(user.id)


async def can_see_content(context: Context, user: UserRecord) -> bool:
    """Whether the viewer may see `user`'s posts, stories, reels and follower lists."""
    if context.viewer is not None and context.viewer.id == user.id:
        return True
    if not await can_see_user(context, user):
        return False
    if not user.is_private:
        return True
    state = await context.loaders.follow_state_by_user_id.load(user.id)
    return state is FollowState.FOLLOWING


async def visible_user(context: Context, user_id: int) -> UserRecord | None:
    user = await context.loaders.user_by_id.load(user_id)
    if user is None or not await can_see_user(context, user):
        return None
    return user


async def visible_users(context: Context, users: list[UserRecord | None]) -> list[UserRecord]:
    """`users` less the missing and hidden ones, in order; one batched check for all."""
    present = [user for user in users if user is not None]
    allowed = await asyncio.gather(*(can_see_user(context, user) for user in present))
    return [user for user, ok in zip(present, allowed, strict=True) if ok]
