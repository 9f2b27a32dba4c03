"""Accounts: signing up, logging in and out, and editing one's profile."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email

from media.image import render_avatar
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError, OkResult, RateLimited
from resolvers.follow import approve_all_requests, reload_user
from resolvers.media import media_from_uploads
from resolvers.rate_limits import client_subject
from resolvers.upload import usable_uploads
from resolvers.viewer import require_viewer
from storage.user import EmailTaken, UsernameTaken, UserRecord
from subscriptions.events import SessionRevoked

# Instagram's rules: letters, digits, periods and underscores, at most 30 characters, no
# leading, trailing or doubled period.
USERNAME_PATTERN = re.compile(r"^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9._]{1,30}$")
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
MIN_PASSWORD_LENGTH = 8  # NIST SP 800-63B
MAX_PASSWORD_LENGTH = 256  # long passphrases welcome; unbounded input would be a DoS lever
MAX_DISPLAY_NAME_LENGTH = 64
MAX_BIO_LENGTH = 150  # as Instagram
MAX_LOGIN_LENGTH = MAX_EMAIL_LENGTH
# The rate-limit actions of log-ins (their limits: resolvers/rate_limits.py).
LOGIN_ACCOUNT_ACTION = "login:account"
LOGIN_CLIENT_ACTION = "login:client"


@dataclass(frozen=True, slots=True)
class AuthResult:
    token: str | None = None
    user: UserRecord | None = None
    errors: list[FieldError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UserResult:
    user: UserRecord | None = None
    errors: list[FieldError] = field(default_factory=list)


def _username_error(username: str) -> FieldError | None:
    if USERNAME_PATTERN.fullmatch(username):
        return None
    return FieldError(
        ErrorCode.INVALID,
        "username",
        "Use 1 to 30 letters, digits, periods and underscores; "
        "no period at the start or end, and no two in a row.",
    )


def _normalise_email(email: str) -> tuple[str | None, FieldError | None]:
    if len(email) > MAX_EMAIL_LENGTH:
        return None, FieldError(ErrorCode.INVALID, "email", "The email address is too long.")
    try:
        # Lowercased whole: providers treat local parts case-insensitively in practice, and
        # two accounts differing only by case would be a support nightmare.
        return validate_email(email, check_deliverability=False).normalized.lower(), None
    except EmailNotValidError as error:
        return None, FieldError(ErrorCode.INVALID, "email", str(error))


def _password_error(password: str) -> FieldError | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        message = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    elif len(password) > MAX_PASSWORD_LENGTH:
        message = f"Use at most {MAX_PASSWORD_LENGTH} characters."
    else:
        return None
    return FieldError(ErrorCode.INVALID, "password", message)


def _text_error(
    value: str, field_name: str, max_length: int, *, multiline: bool
) -> FieldError | None:
    if len(value) > max_length:
        return FieldError(ErrorCode.INVALID, field_name, f"Use at most {max_length} characters.")
    allowed = {"\n"} if multiline else set()
    if any(unicodedata.category(char) == "Cc" and char not in allowed for char in value):
        return FieldError(ErrorCode.INVALID, field_name, "Control characters are not allowed.")
    return None


async def sign_up(context: Context, username: str, email: str, password: str) -> AuthResult:
    services = context.services
    normalised_email, email_error = _normalise_email(email.strip())
    errors = [
        error
        for error in (_username_error(username), email_error, _password_error(password))
        if error is not None
    ]
    if errors or normalised_email is None:
        return AuthResult(errors=errors)
    password_hash = await asyncio.to_thread(services.passwords.hash, password)
    user_id = services.ids.next_id()
    try:
        user = await services.stores.users.insert(
            user_id=user_id,
            username=username,
            email=normalised_email,
            password_hash=password_hash,
            created_at=services.clock(),
        )
    except UsernameTaken:
        return AuthResult(
            errors=[FieldError(ErrorCode.TAKEN, "username", "That username is taken.")]
        )
    except EmailTaken:
        return AuthResult(
            errors=[
                FieldError(ErrorCode.TAKEN, "email", "That email address already has an account.")
            ]
        )
    token = await _start_session(context, user.id)
    return AuthResult(token=token, user=user)


async def log_in(context: Context, login: str, password: str) -> AuthResult:
    services = context.services
    login = login.strip()
    if not login or len(login) > MAX_LOGIN_LENGTH:
        return AuthResult(
            errors=[FieldError(ErrorCode.INVALID, "login", "Enter your username or email.")]
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return AuthResult(errors=[_invalid_credentials()])
    found = await services.stores.users.find_credentials(login)
    # Per account, whichever of its names is typed; a login naming no account is counted
    # under the name itself, so probing for accounts is throttled the same way.
    account = f"account:{found[0].id}" if found else f"login:{login.lower()}"
    await _admit_log_in(context, account)
    if found is None:
        # Spend the same time as a real check, so timing does not reveal which accounts exist.
        await asyncio.to_thread(_verify, services.passwords, services.dummy_password_hash, password)
        return AuthResult(errors=[_invalid_credentials()])
    user, password_hash = found
    if not await asyncio.to_thread(_verify, services.passwords, password_hash, password):
        return AuthResult(errors=[_invalid_credentials()])
    # The owner got in: the account's failures are forgotten, and this attempt was none of
    # the client's.
    await services.rate_limiter.forgive(LOGIN_ACCOUNT_ACTION, account)
    await services.rate_limiter.refund(LOGIN_CLIENT_ACTION, client_subject(context))
    if services.passwords.check_needs_rehash(password_hash):
        new_hash = await asyncio.to_thread(services.passwords.hash, password)
        await services.stores.users.set_password_hash(user.id, new_hash)
    token = await _start_session(context, user.id)
    return AuthResult(token=token, user=user)


async def _admit_log_in(context: Context, account: str) -> None:
    """Count this guess for the client address and the account, each under its back-off;
    RATE_LIMITED while either waits."""
    services = context.services
    limits, limiter = services.rate_limits, services.rate_limiter
    client = client_subject(context)
    hit = await limiter.attempt(LOGIN_CLIENT_ACTION, client, limits.login_failures_per_client)
    if not hit.allowed:
        raise RateLimited(
            "Too many failed log-ins from this address; try again later.",
            retry_after_seconds=hit.retry_after_seconds,
        )
    hit = await limiter.attempt(LOGIN_ACCOUNT_ACTION, account, limits.login_per_account)
    if not hit.allowed:
        # No password was tried, so nothing counts against the client.
        await limiter.refund(LOGIN_CLIENT_ACTION, client)
        raise RateLimited(
            "Too many failed log-ins for this account; try again later.",
            retry_after_seconds=hit.retry_after_seconds,
        )


async def log_out(context: Context) -> OkResult:
    require_viewer(context)
    assert context.session is not None  # a viewer always comes with its session
    await context.services.stores.sessions.revoke(context.session.token_hash)
    await context.services.bus.publish(SessionRevoked(context.session.token_hash))
    return OkResult(ok=True)


async def update_profile(
    context: Context,
    *,
    display_name: str | None,
    bio: str | None,
    is_private: bool | None,
    avatar_upload_id: str | None,
) -> UserResult:
    viewer = require_viewer(context)
    changes: dict[str, Any] = {}
    errors: list[FieldError] = []
    if display_name is not None:
        display_name = display_name.strip()
        error = _text_error(display_name, "displayName", MAX_DISPLAY_NAME_LENGTH, multiline=False)
        if error:
            errors.append(error)
        else:
            changes["display_name"] = display_name
    if bio is not None:
        error = _text_error(bio, "bio", MAX_BIO_LENGTH, multiline=True)
        if error:
            errors.append(error)
        else:
            changes["bio"] = bio
    if is_private is not None:
        changes["is_private"] = is_private
    if errors:
        return UserResult(errors=errors)
    if avatar_upload_id is not None:
        avatar = await _avatar(context, avatar_upload_id)
        if isinstance(avatar, FieldError):
            return UserResult(errors=[avatar])
        upload_id, changes["avatar_key"] = avatar
        claimed = await context.services.stores.uploads.claim(
            [upload_id], viewer.id, f"avatar:{viewer.id}:{upload_id}"
        )
        if not claimed:
            return UserResult(
                errors=[
                    FieldError(
                        ErrorCode.INVALID, "avatarUploadId", "The upload was used meanwhile."
                    )
                ]
            )
    user = viewer
    if changes:
        updated = await context.services.stores.users.update_profile(viewer.id, changes)
        assert updated is not None  # the viewer's own account exists
        user = updated
    if viewer.is_private and is_private is False:
        # Going public accepts everyone who asked, as Instagram does.
        await approve_all_requests(context, viewer.id)
        reloaded = await reload_user(context, viewer.id)
        assert reloaded is not None  # the policy never hides an account from itself
        user = reloaded
    context.viewer = user
    return UserResult(user=user)


async def _avatar(context: Context, raw_upload_id: str) -> tuple[int, str] | FieldError:
    """The upload's id and the key of the avatar rendered from it."""
    uploads = await usable_uploads(context, [raw_upload_id], "avatarUploadId")
    if isinstance(uploads, FieldError):
        return uploads
    media = await media_from_uploads(context, uploads, render_avatar, "avatarUploadId")
    if isinstance(media, FieldError):
        return media
    return uploads[0].id, media[0].renditions[0].key


async def _start_session(context: Context, user_id: int) -> str:
    services = context.services
    now = services.clock()
    return await services.stores.sessions.create(
        user_id, now=now, expires_at=now + services.session_lifetime
    )


def _invalid_credentials() -> FieldError:
    return FieldError(
        ErrorCode.INVALID_CREDENTIALS, None, "The username, email or password is incorrect."
    )


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False
