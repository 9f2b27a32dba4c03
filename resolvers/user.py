"""Reading users: by username, by id, by search."""

from __future__ import annotations

from resolvers.context import Context
from resolvers.pagination import Page, encode_cursor, page_size
from resolvers.viewer import require_viewer
from resolvers.visibility import visible_user, visible_users
from storage.user import UserRecord

MAX_SEARCH_QUERY_LENGTH = 64
DEFAULT_SEARCH_RESULTS = 10


def viewer(context: Context) -> UserRecord | None:
    """The signed-in user; None when anonymous; UNAUTHENTICATED when a bad token was sent."""
    if context.auth_error is not None:
        require_viewer(context)
    return context.viewer


async def user_by_username(context: Context, username: str) -> UserRecord | None:
    user_id = await context.services.stores.users.find_id_by_username(username.strip().lstrip("@"))
    return None if user_id is None else await visible_user(context, user_id)


async def user_by_id(context: Context, user_id: int) -> UserRecord | None:
    return await visible_user(context, user_id)


async def search_users(context: Context, query: str, first: int | None) -> list[UserRecord]:
    """Prefix search on username and display name, most followed first; hidden users left out."""
    size = page_size(first, DEFAULT_SEARCH_RESULTS)
    prefix = query.strip().lstrip("@")[:MAX_SEARCH_QUERY_LENGTH]
    if not prefix or size == 0:
        return []
    users = await context.services.stores.users.search(prefix, size)
    for user in users:
        context.loaders.user_by_id.prime(user.id, user)
    return await visible_users(context, list(users))


def search_page(users: list[UserRecord]) -> Page[UserRecord]:
    """Search results as a connection page: ranked, so cursors are positions, one page only."""
    return Page(
        edges=[(encode_cursor(rank), user) for rank, user in enumerate(users)], has_next_page=False
    )
