"""Reading users: by username, by id, by search."""

from __future__ import annotations

from resolvers.context import Context
from resolvers.pagination import Page, encode_cursor, page_size
from resolvers.ranking import log_interaction
from resolvers.viewer import require_viewer
from storage.interaction import InteractionKind
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
    user = None if user_id is None else await user_by_id(context, user_id)
    # A profile opened by name: the ranking's "profile opens" signal. The query does not say
    # where it was opened from (a post, search, a link), so every open by name counts.
    if user is not None and context.viewer is not None and user.id != context.viewer.id:
        log_interaction(context, InteractionKind.PROFILE_OPEN, context.viewer, user.id)
    return user


async def user_by_id(context: Context, user_id: int) -> UserRecord | None:
    """The user, if they exist and the viewer may see them."""
    return await context.loaders.user_by_id.load(user_id)


async def search_users(context: Context, query: str, first: int | None) -> list[UserRecord]:
    """Prefix search on username and display name, most followed first; hidden users left out."""
    size = page_size(first, DEFAULT_SEARCH_RESULTS)
    prefix = query.strip().lstrip("@")[:MAX_SEARCH_QUERY_LENGTH]
    if not prefix:
        return []
    users = await context.services.stores.users.search(prefix, size)
    return await context.loaders.user_by_id.filter(users)


def search_page(users: list[UserRecord]) -> Page[UserRecord]:
    """Search results as a connection page: ranked, so cursors are positions, one page only."""
    return Page(
        edges=[(encode_cursor(rank), user) for rank, user in enumerate(users)], has_next_page=False
    )
