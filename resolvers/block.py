"""Blocking: hides two accounts from each other and ends every follow between them."""

from __future__ import annotations

from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, OkResult
from resolvers.follow import remove_follow
from resolvers.ids import typed_id_argument
from resolvers.viewer import require_viewer


async def _target_id(context: Context, raw_user_id: str) -> int | FieldError:
    """The user to block or unblock. Blocked users stay addressable here, so unlike other
    mutations this does not hide accounts that blocked the viewer."""
    viewer = require_viewer(context)
    user_id = typed_id_argument(raw_user_id, "User", "userId")
    if isinstance(user_id, FieldError):
        return user_id
    if user_id == viewer.id:
        return FieldError(ErrorCode.INVALID, "userId", "You cannot block yourself.")
    if await context.loaders.unfiltered.user_by_id.load(user_id) is None:
        return FieldError(ErrorCode.NOT_FOUND, "userId", "No such user.")
    return user_id


async def block_user(context: Context, raw_user_id: str) -> OkResult:
    target_id = await _target_id(context, raw_user_id)
    if isinstance(target_id, FieldError):
        return OkResult(errors=[target_id])
    viewer = require_viewer(context)
    # Block first, then cut the follows: a follow racing this call is refused by the block.
    await context.services.stores.blocks.insert(viewer.id, target_id)
    await remove_follow(context, viewer.id, target_id)
    await remove_follow(context, target_id, viewer.id)
    return OkResult(ok=True)


async def unblock_user(context: Context, raw_user_id: str) -> OkResult:
    """Lifts the block; follows it ended stay ended. Unblocking twice is not an error."""
    target_id = await _target_id(context, raw_user_id)
    if isinstance(target_id, FieldError):
        return OkResult(errors=[target_id])
    viewer = require_viewer(context)
    await context.services.stores.blocks.delete(viewer.id, target_id)
    return OkResult(ok=True)
