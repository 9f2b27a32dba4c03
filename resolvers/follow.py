"""The follow graph: following, unfollowing, private accounts' requests.

Counters on `users` move only when a follow document was really inserted, approved or
deleted, so concurrent and repeated calls never double-count.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from resolvers import fanout, notification
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError
from resolvers.ids import node_argument
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    decode_cursor,
    page_size,
    visible_keyset_page,
)
from resolvers.user import user_by_id
from resolvers.viewer import require_viewer
from storage.follow import FollowRecord, FollowState
from storage.notification import NotificationCause
from storage.user import UserRecord

# Pending requests read at once when an account goes public: a popular private account may
# have tens of thousands, and one batch of records is all a request should hold.
APPROVAL_BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class FollowResult:
    state: FollowState | None = None
    user: UserRecord | None = None
    errors: list[FieldError] = field(default_factory=list)


async def resolve_user_argument(
    context: Context, raw_id: str, field_name: str
) -> UserRecord | FieldError:
    """The user a mutation argument names, if the viewer may see them."""
    return await node_argument(context, raw_id, "User", field_name, user_by_id)


async def follow_user(context: Context, raw_user_id: str) -> FollowResult:
    viewer = require_viewer(context)
    target = await resolve_user_argument(context, raw_user_id, "userId")
    if isinstance(target, FieldError):
        return FollowResult(errors=[target])
    if target.id == viewer.id:
        return FollowResult(
            errors=[FieldError(ErrorCode.INVALID, "userId", "You cannot follow yourself.")]
        )
    services = context.services
    state = FollowState.REQUESTED if target.is_private else FollowState.FOLLOWING
    inserted = await services.stores.follows.insert(
        services.ids.next_id(), viewer.id, target.id, state
    )
    if inserted is None:
        existing = await services.stores.follows.find(viewer.id, target.id)
        state = FollowState.NONE if existing is None else existing.state
    else:
        if state is FollowState.FOLLOWING:
            await _count_follow(context, viewer.id, target.id, +1)
        await _notify(context, viewer.id, target.id)
    return FollowResult(state=state, user=await reload_user(context, target.id))


async def unfollow_user(context: Context, raw_user_id: str) -> FollowResult:
    """Stops following, or withdraws a request; not following is not an error."""
    viewer = require_viewer(context)
    target = await resolve_user_argument(context, raw_user_id, "userId")
    if isinstance(target, FieldError):
        return FollowResult(errors=[target])
    await remove_follow(context, viewer.id, target.id)
    return FollowResult(state=FollowState.NONE, user=await reload_user(context, target.id))


async def respond_to_follow_request(
    context: Context, raw_user_id: str, approve: bool
) -> FollowResult:
    viewer = require_viewer(context)
    requester = await resolve_user_argument(context, raw_user_id, "userId")
    if isinstance(requester, FieldError):
        return FollowResult(errors=[requester])
    follows = context.services.stores.follows
    if approve:
        done = await follows.approve(requester.id, viewer.id)
        if done:
            await _count_follow(context, requester.id, viewer.id, +1)
    else:
        done = (
            await follows.delete(requester.id, viewer.id, state=FollowState.REQUESTED) is not None
        )
    if not done:
        return FollowResult(
            errors=[FieldError(ErrorCode.NOT_FOUND, "userId", "This user has no pending request.")]
        )
    await _notify(context, requester.id, viewer.id)
    # The requester's follow of the viewer, as it now is.
    state = FollowState.FOLLOWING if approve else FollowState.NONE
    return FollowResult(state=state, user=await reload_user(context, requester.id))


async def approve_all_requests(
    context: Context, followee_id: int, *, batch_size: int = APPROVAL_BATCH_SIZE
) -> None:
    """Approve every pending request to `followee_id`, `batch_size` at a time, oldest first."""
    follows = context.services.stores.follows
    after_id = 0  # ids are positive
    while True:
        batch = await follows.pending_requests_to(followee_id, after_id=after_id, limit=batch_size)
        for request in batch:
            if await follows.approve(request.follower_id, followee_id):
                await _count_follow(context, request.follower_id, followee_id, +1)
                await _notify(context, request.follower_id, followee_id)
        if len(batch) < batch_size:
            return
        after_id = batch[-1].id


async def remove_follow(context: Context, follower_id: int, followee_id: int) -> None:
    removed = await context.services.stores.follows.delete(follower_id, followee_id)
    if removed is None:
        return
    if removed.state is FollowState.FOLLOWING:
        await _count_follow(context, follower_id, followee_id, -1)
    await _notify(context, follower_id, followee_id)  # a request withdrawn is taken back


async def follow_requests(
    context: Context, first: int | None, after: str | None
) -> Page[UserRecord]:
    """Pending requests to the viewer, newest first."""
    viewer = require_viewer(context)
    size, before_id = page_size(first, DEFAULT_PAGE_SIZE), decode_cursor(after)
    follows = context.services.stores.follows

    async def fetch(older_than: int | None, limit: int) -> list[FollowRecord]:
        return await follows.page_followers(
            viewer.id, FollowState.REQUESTED, before_id=older_than, limit=limit
        )

    return await _users_page(context, fetch, lambda row: row.follower_id, size, before_id)


async def followers(
    context: Context, user: UserRecord, first: int | None, after: str | None
) -> Page[UserRecord]:
    size, before_id = page_size(first, DEFAULT_PAGE_SIZE), decode_cursor(after)
    if not await context.loaders.visibility.content_visible(user):
        return Page(edges=[], has_next_page=False)
    follows = context.services.stores.follows

    async def fetch(older_than: int | None, limit: int) -> list[FollowRecord]:
        return await follows.page_followers(
            user.id, FollowState.FOLLOWING, before_id=older_than, limit=limit
        )

    return await _users_page(context, fetch, lambda row: row.follower_id, size, before_id)


async def following(
    context: Context, user: UserRecord, first: int | None, after: str | None
) -> Page[UserRecord]:
    size, before_id = page_size(first, DEFAULT_PAGE_SIZE), decode_cursor(after)
    if not await context.loaders.visibility.content_visible(user):
        return Page(edges=[], has_next_page=False)
    follows = context.services.stores.follows

    async def fetch(older_than: int | None, limit: int) -> list[FollowRecord]:
        return await follows.page_following(user.id, before_id=older_than, limit=limit)

    return await _users_page(context, fetch, lambda row: row.followee_id, size, before_id)


async def _users_page(
    context: Context,
    fetch: Callable[[int | None, int], Awaitable[list[FollowRecord]]],
    user_id_of: Callable[[FollowRecord], int],
    size: int,
    before_id: int | None,
) -> Page[UserRecord]:
    """The users a list of follows points at, keyed by follow id; hidden ones left out."""
    users_by_id: dict[int, UserRecord] = {}

    async def keep(rows: list[FollowRecord]) -> list[FollowRecord]:
        users = await context.loaders.user_by_id.load_many([user_id_of(row) for row in rows])
        users_by_id.update((user.id, user) for user in users if user is not None)
        return [row for row in rows if user_id_of(row) in users_by_id]

    page = await visible_keyset_page(fetch, keep, lambda row: row.id, size, before_id)
    return Page(
        edges=[(cursor, users_by_id[user_id_of(row)]) for cursor, row in page.edges],
        has_next_page=page.has_next_page,
    )


async def reload_user(context: Context, user_id: int) -> UserRecord | None:
    """The user as stored now, after this request changed them (None if now hidden)."""
    context.loaders.user_by_id.clear(user_id)
    context.loaders.follow_state_by_user_id.clear(user_id)
    context.loaders.follows_viewer_by_user_id.clear(user_id)
    context.loaders.blocked_by_user_id.clear(user_id)
    return await context.loaders.user_by_id.load(user_id)


async def _notify(context: Context, follower_id: int, followee_id: int) -> None:
    """The follow between them changed: the followee's notification follows it."""
    await notification.enqueue(context.services, NotificationCause.FOLLOW, followee_id, follower_id)


async def _count_follow(context: Context, follower_id: int, followee_id: int, delta: int) -> None:
    """A follow began (+1) or ended (-1): move both counters, and the follower's feed."""
    services = context.services
    await services.stores.users.increment_counts(follower_id, following=delta)
    followee = await services.stores.users.increment_counts(followee_id, follower=delta)
    if followee is not None:
        await fanout.follower_count_changed(services, followee, delta)
    if delta > 0:
        await fanout.merge_followee(services, follower_id, followee_id)
    else:
        await fanout.unmerge_followee(services, follower_id, followee_id)
