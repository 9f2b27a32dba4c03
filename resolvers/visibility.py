"""Who may see whom: blocks hide both ways; a private account's content needs approval.

The list forms check many users with one batched load per relation, so a page of a hundred
posts costs no task per post.
"""

from __future__ import annotations

from resolvers.context import Context
from storage.follow import FollowState
from storage.user import UserRecord


async def users_visible(context: Context, users: list[UserRecord]) -> list[bool]:
    """Whether the viewer may see each user at all (their profile exists for the viewer)."""
    if context.viewer is None:
        return [True] * len(users)
    viewer_id = context.viewer.id
    blocked = await context.loaders.blocked_by_user_id.load_many([user.id for user in users])
    return [
        user.id == viewer_id or not is_blocked
        for user, is_blocked in zip(users, blocked, strict=True)
    ]


async def content_visible(context: Context, users: list[UserRecord]) -> list[bool]:
    """Whether the viewer may see each user's posts, stories, reels and follower lists."""
    visible = await users_visible(context, users)
    viewer_id = None if context.viewer is None else context.viewer.id
    gated = [
        user
        for user, ok in zip(users, visible, strict=True)
        if ok and user.is_private and user.id != viewer_id
    ]
    states = await context.loaders.follow_state_by_user_id.load_many([user.id for user in gated])
    refused = {
        user.id
        for user, state in zip(gated, states, strict=True)
        if state is not FollowState.FOLLOWING
    }
    return [ok and user.id not in refused for user, ok in zip(users, visible, strict=True)]


async def can_see_user(context: Context, user: UserRecord) -> bool:
    return (await users_visible(context, [user]))[0]


async def can_see_content(context: Context, user: UserRecord) -> bool:
    return (await content_visible(context, [user]))[0]


async def visible_user(context: Context, user_id: int) -> UserRecord | None:
    user = await context.loaders.user_by_id.load(user_id)
    if user is None or not await can_see_user(context, user):
        return None
    return user


async def visible_users(context: Context, users: list[UserRecord | None]) -> list[UserRecord]:
    """`users` less the missing and hidden ones, in order."""
    present = [user for user in users if user is not None]
    allowed = await users_visible(context, present)
    return [user for user, ok in zip(present, allowed, strict=True) if ok]
