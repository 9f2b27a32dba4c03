"""Accounts: sign-up, log-in, log-out, tokens and profiles, over HTTP against real Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest

from app.services import Runtime
from resolvers.rate_limits import LOGIN_PER_ACCOUNT
from resolvers.viewer import authenticate
from tests.client import TEST_PASSWORD, GraphQLClient
from tests.conftest import insert_user

SIGN_UP = """
mutation ($username: String!, $email: String!, $password: String!) {
  signUp(input: {username: $username, email: $email, password: $password}) {
    token user { id username } errors { code field message }
  }
}"""
LOG_IN = """
mutation ($login: String!, $password: String!) {
  logIn(input: {login: $login, password: $password}) {
    token user { id username } errors { code field message }
  }
}"""
VIEWER = "{ viewer { id username email } }"
UPDATE_PROFILE = """
mutation ($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    user { displayName bio isPrivate } errors { code field message }
  }
}"""


def unique_name(prefix: str = "acct") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def sign_up(
    graphql: GraphQLClient, username: str, email: str, password: str = TEST_PASSWORD
) -> Any:
    data = await graphql.data(SIGN_UP, {"username": username, "email": email, "password": password})
    return data["signUp"]


async def log_in(graphql: GraphQLClient, login: str, password: str = TEST_PASSWORD) -> Any:
    data = await graphql.data(LOG_IN, {"login": login, "password": password})
    return data["logIn"]


def error_code(body: Any) -> Any:
    return body["errors"][0]["extensions"]["code"]


async def test_sign_up_returns_a_token_that_identifies_the_new_user(graphql: GraphQLClient) -> None:
    username = unique_name()

    payload = await sign_up(graphql, username, f"{username}@example.com")

    assert payload["errors"] == []
    viewer = (await graphql.data(VIEWER, token=payload["token"]))["viewer"]
    assert viewer == {
        "id": payload["user"]["id"],
        "username": username,
        "email": f"{username}@example.com",
    }


async def test_usernames_are_unique_regardless_of_case(graphql: GraphQLClient) -> None:
    username = unique_name()
    await sign_up(graphql, username, f"{username}@example.com")

    payload = await sign_up(graphql, username.upper(), f"other_{username}@example.com")

    assert payload["token"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("TAKEN", "username")]
    refused = await log_in(graphql, f"other_{username}@example.com")
    assert refused["token"] is None  # nothing was written for the refused sign-up


async def test_emails_are_normalised_and_unique(graphql: GraphQLClient) -> None:
    username = unique_name()
    await sign_up(graphql, username, f"  {username.upper()}@Example.COM ")

    payload = await sign_up(graphql, unique_name(), f"{username}@example.com")

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("TAKEN", "email")]
    assert (await log_in(graphql, f"{username}@EXAMPLE.com"))["user"]["username"] == username


async def test_concurrent_sign_ups_for_one_username_create_exactly_one_account(
    graphql: GraphQLClient,
) -> None:
    username = unique_name()

    payloads = await asyncio.gather(
        *(sign_up(graphql, username, f"{username}{n}@example.com") for n in range(8))
    )

    assert sum(1 for payload in payloads if payload["token"]) == 1
    assert sum(1 for payload in payloads if payload["errors"]) == 7


@pytest.mark.parametrize(
    ("username", "email", "password", "field"),
    [
        ("", "ok@example.com", TEST_PASSWORD, "username"),
        ("x" * 31, "ok@example.com", TEST_PASSWORD, "username"),
        ("has space", "ok@example.com", TEST_PASSWORD, "username"),
        (".leading", "ok@example.com", TEST_PASSWORD, "username"),
        ("two..dots", "ok@example.com", TEST_PASSWORD, "username"),
        ("émile", "ok@example.com", TEST_PASSWORD, "username"),
        ("valid_name", "not-an-email", TEST_PASSWORD, "email"),
        ("valid_name", "a@" + "b" * 250 + ".com", TEST_PASSWORD, "email"),
        ("valid_name", "ok@example.com", "short", "password"),
        ("valid_name", "ok@example.com", "p" * 257, "password"),
    ],
)
async def test_sign_up_rejects_malformed_input_naming_the_field(
    graphql: GraphQLClient, username: str, email: str, password: str, field: str
) -> None:
    payload = await sign_up(graphql, username, email, password)

    assert payload["token"] is None and payload["user"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", field)]


async def test_log_in_accepts_the_username_or_the_email(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()

    by_username = await log_in(graphql, account.username.upper())
    by_email = await log_in(graphql, account.email)

    assert by_username["user"]["id"] == by_email["user"]["id"] == account.id
    assert by_username["token"] != by_email["token"]  # each log-in is its own session


async def test_a_wrong_password_and_an_unknown_user_get_the_same_error(
    graphql: GraphQLClient,
) -> None:
    account = await graphql.sign_up()

    wrong_password = await log_in(graphql, account.username, "not the password")
    unknown_user = await log_in(graphql, unique_name("nobody"), "not the password")

    assert wrong_password == unknown_user
    assert wrong_password["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_repeated_failed_log_ins_are_rate_limited_with_a_retry_after_hint(
    graphql: GraphQLClient,
) -> None:
    account = await graphql.sign_up()
    # the free failures, and one more, which makes the next attempt wait
    for _ in range(LOGIN_PER_ACCOUNT.free_failures + 1):
        await log_in(graphql, account.username, "wrong password")

    # even the right password, right now
    body = await graphql.execute(LOG_IN, {"login": account.username, "password": TEST_PASSWORD})

    # a request-level error, as every throttled call gets, not a payload error
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["path"] == ["logIn"]
    # the first wait of the back-off
    assert error["extensions"]["retryAfterSeconds"] == LOGIN_PER_ACCOUNT.first_delay_seconds


async def test_log_out_revokes_the_token(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()

    assert (await graphql.data("mutation { logOut { ok } }", token=account.token))["logOut"]["ok"]

    body = await graphql.execute(VIEWER, token=account.token)
    assert error_code(body) == "UNAUTHENTICATED"


async def test_log_out_without_a_token_is_unauthenticated(graphql: GraphQLClient) -> None:
    body = await graphql.execute("mutation { logOut { ok } }")

    assert error_code(body) == "UNAUTHENTICATED"


async def test_an_anonymous_viewer_is_null(graphql: GraphQLClient) -> None:
    assert (await graphql.data(VIEWER))["viewer"] is None


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Basic abc", "Bearer", "x" * 500])
async def test_a_bad_authorization_header_is_unauthenticated(
    graphql: GraphQLClient, authorization: str
) -> None:
    response = await graphql.http.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": authorization}
    )

    assert error_code(response.json()) == "UNAUTHENTICATED"


async def test_a_token_stops_working_when_it_expires(runtime: Runtime) -> None:
    services = runtime.services
    user = await insert_user(services)
    now = services.clock()
    token = await services.stores.sessions.create(
        user.id, now=now, expires_at=now + timedelta(days=30)
    )
    later = dataclasses.replace(services, clock=lambda: now + timedelta(days=30, seconds=1))

    assert (await authenticate(services, f"Bearer {token}")).viewer == user
    expired = await authenticate(later, f"Bearer {token}")
    assert expired.viewer is None and expired.error is not None


async def test_update_profile_changes_only_the_given_fields(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    await graphql.data(UPDATE_PROFILE, {"input": {"bio": "hello\nworld"}}, token=account.token)

    data = await graphql.data(
        UPDATE_PROFILE,
        {"input": {"displayName": "  Ada L. ", "isPrivate": True}},
        token=account.token,
    )

    assert data["updateProfile"] == {
        "user": {"displayName": "Ada L.", "bio": "hello\nworld", "isPrivate": True},
        "errors": [],
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"displayName": "d" * 65}, "displayName"),
        ({"displayName": "tab\there"}, "displayName"),
        ({"bio": "b" * 151}, "bio"),
        ({"bio": "bell\x07"}, "bio"),
        ({"avatarUploadId": "VXBsb2FkOjE="}, "avatarUploadId"),
    ],
)
async def test_update_profile_rejects_bad_fields_and_writes_nothing(
    graphql: GraphQLClient, changes: dict[str, Any], field: str
) -> None:
    account = await graphql.sign_up()

    data = await graphql.data(
        UPDATE_PROFILE, {"input": {"isPrivate": True, **changes}}, token=account.token
    )

    assert data["updateProfile"]["user"] is None
    assert [e["field"] for e in data["updateProfile"]["errors"]] == [field]
    viewer = await graphql.data("{ viewer { isPrivate displayName bio } }", token=account.token)
    assert viewer["viewer"] == {"isPrivate": False, "displayName": "", "bio": ""}


async def test_update_profile_without_a_token_is_unauthenticated(graphql: GraphQLClient) -> None:
    body = await graphql.execute(UPDATE_PROFILE, {"input": {"bio": "x"}})

    assert error_code(body) == "UNAUTHENTICATED"


async def test_only_the_account_itself_sees_its_email(graphql: GraphQLClient) -> None:
    owner, other = await graphql.sign_up(), await graphql.sign_up()
    query = "query ($u: String!) { user(username: $u) { email } }"

    assert (await graphql.data(query, {"u": owner.username}, token=owner.token))["user"]["email"]
    assert (await graphql.data(query, {"u": owner.username}, token=other.token))["user"][
        "email"
    ] is None
