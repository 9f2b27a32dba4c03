"""Who is asking: bearer tokens to viewers, and the guard for fields that need one."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.context import Context, Services
from resolvers.errors import Unauthenticated
from storage.session import SessionRecord
from storage.user import UserRecord

BEARER_SCHEME = "bearer"
MAX_TOKEN_LENGTH = 128  # our tokens are 43 characters; refuse junk before hashing it


@dataclass(frozen=True, slots=True)
class Authentication:
    viewer: UserRecord | None = None
    session: SessionRecord | None = None
    error: str | None = None  # why a presented credential was refused


async def authenticate(services: Services, authorization: object) -> Authentication:
    """Resolve an `Authorization` value ("Bearer <token>"); no value is an anonymous viewer."""
    if authorization is None or authorization == "":
        return Authentication()
    if not isinstance(authorization, str):
        return Authentication(error="The authorization value must be a string.")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != BEARER_SCHEME or not token or len(token) > MAX_TOKEN_LENGTH:
        return Authentication(error='Send the token as "Authorization: Bearer <token>".')
    session = await services.stores.sessions.find_active(token, now=services.clock())
    if session is None:
        return Authentication(error="The token is invalid, expired or revoked.")
    users = await services.stores.users.find_by_ids([session.user_id])
    viewer = users.get(session.user_id)
    if viewer is None:
        return Authentication(error="The token's account no longer exists.")
    return Authentication(viewer=viewer, session=session)


def require_viewer(context: Context) -> UserRecord:
    if context.viewer is None:
        raise Unauthenticated(context.auth_error or "Sign in to do this.")
    return context.viewer
