"""Abuse limits over HTTP, each test on a server and redis-server of its own with small
limits: log-in back-offs per account and per client address, mutation limits per client
and per viewer, and which client address counts (X-Forwarded-For only from a trusted proxy).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from resolvers.rate_limits import MutationLimit, RateLimits
from storage.rate_limit import BackOff, Window
from tests.client import TEST_PASSWORD, Account, GraphQLClient
from tests.conftest import SUITE_RATE_LIMITS, serve
from tests.servers import redis_server

LOG_IN = """mutation ($login: String!, $password: String!) {
  logIn(input: {login: $login, password: $password}) { token errors { code } } }"""
CREATE_UPLOAD = """mutation { createUpload(input: {contentType: "image/jpeg", byteSize: 1000}) {
  upload { id } errors { code } } }"""
LOG_OUT = "mutation { logOut { ok } }"
WRONG_PASSWORD = "not the password at all"
ROOMY = Window(attempts=1_000, seconds=600)
HOUR_LONG_WAITS = BackOff(
    free_failures=3, first_delay_seconds=3_600, max_delay_seconds=3_600, memory_seconds=3_600
)
NO_BACK_OFF = SUITE_RATE_LIMITS.login_failures_per_client


def limits(**changes: Any) -> RateLimits:
    """Roomy limits everywhere but where a test says otherwise."""
    return dataclasses.replace(SUITE_RATE_LIMITS, **changes)


@asynccontextmanager
async def limited_server(
    tmp_path: Path, rate_limits: RateLimits, **settings: object
) -> AsyncIterator[GraphQLClient]:
    with redis_server() as redis_url:
        async with (
            serve({"rate_limits": rate_limits, **settings}, redis_url, str(tmp_path)) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as http,
        ):
            yield GraphQLClient(http)


async def log_in(graphql: GraphQLClient, login: str, password: str) -> dict[str, Any]:
    return await graphql.execute(LOG_IN, {"login": login, "password": password})


def rate_limited(body: dict[str, Any]) -> dict[str, Any] | None:
    """The RATE_LIMITED error's extensions, if the request was throttled."""
    for error in body.get("errors", []):
        if error["extensions"]["code"] == "RATE_LIMITED":
            extensions: dict[str, Any] = error["extensions"]
            return extensions
    return None


def logged_in(body: dict[str, Any]) -> bool:
    return bool(body["data"] and body["data"]["logIn"]["token"])


async def test_log_in_failures_count_per_account_whether_by_username_or_email(
    tmp_path: Path,
) -> None:
    # Given an account allowed three free failures, then an hour's wait
    async with limited_server(tmp_path, limits(login_per_account=HOUR_LONG_WAITS)) as graphql:
        account = await graphql.sign_up()
        # When it fails twice by username and twice by email
        for login in (account.username, account.email, account.username.upper(), account.email):
            assert not logged_in(await log_in(graphql, login, WRONG_PASSWORD))
        # Then even the right password waits, under either name
        for login in (account.username, account.email):
            throttled = rate_limited(await log_in(graphql, login, TEST_PASSWORD))
            assert throttled is not None and 3_590 < throttled["retryAfterSeconds"] <= 3_600


async def test_log_ins_to_an_unknown_account_are_throttled_by_the_login_typed(
    tmp_path: Path,
) -> None:
    async with limited_server(tmp_path, limits(login_per_account=HOUR_LONG_WAITS)) as graphql:
        for _ in range(4):
            await log_in(graphql, "Nobody_Here", WRONG_PASSWORD)

        body = await log_in(graphql, "nobody_here", WRONG_PASSWORD)

        assert rate_limited(body) is not None


async def test_the_owner_gets_in_once_the_back_off_wait_is_over(tmp_path: Path) -> None:
    # Given an account whose free failure is used up, and one more that began a 1 s wait
    back_off = BackOff(
        free_failures=1, first_delay_seconds=1, max_delay_seconds=60, memory_seconds=600
    )
    async with limited_server(tmp_path, limits(login_per_account=back_off)) as graphql:
        account = await graphql.sign_up()
        for _ in range(2):
            await log_in(graphql, account.username, WRONG_PASSWORD)
        throttled = rate_limited(await log_in(graphql, account.username, TEST_PASSWORD))
        assert throttled is not None and throttled["retryAfterSeconds"] == 1
        # When the owner tries again after the wait it was told
        await asyncio.sleep(throttled["retryAfterSeconds"])
        # Then the owner gets in
        assert logged_in(await log_in(graphql, account.username, TEST_PASSWORD))
        # And the failures are forgotten: a typo costs no wait again
        await log_in(graphql, account.username, WRONG_PASSWORD)
        assert logged_in(await log_in(graphql, account.username, TEST_PASSWORD))


async def test_one_password_sprayed_over_many_accounts_from_one_address_stops_early(
    tmp_path: Path,
) -> None:
    # Given a client address allowed three failed log-ins, then an hour's wait
    rate_limits = limits(login_failures_per_client=HOUR_LONG_WAITS)
    async with limited_server(tmp_path, rate_limits) as graphql:
        accounts = [await graphql.sign_up() for _ in range(5)]
        # When one password is tried on one account after another
        bodies = [await log_in(graphql, account.username, "password123") for account in accounts]
        # Then the fifth account is not even tried: the address waits
        assert [rate_limited(body) is not None for body in bodies] == [False] * 4 + [True]
        throttled = rate_limited(bodies[4])
        assert throttled is not None and "address" in str(bodies[4]["errors"][0]["message"])


async def test_an_addresss_successful_log_ins_do_not_count_as_failures(tmp_path: Path) -> None:
    rate_limits = limits(login_failures_per_client=HOUR_LONG_WAITS)
    async with limited_server(tmp_path, rate_limits) as graphql:
        account = await graphql.sign_up()

        bodies = [await log_in(graphql, account.username, TEST_PASSWORD) for _ in range(6)]

        assert all(logged_in(body) for body in bodies)


async def test_sign_ups_are_limited_per_client_address(tmp_path: Path) -> None:
    two_an_hour = MutationLimit(per_client=Window(2, 3_600), per_viewer=ROOMY)
    async with limited_server(
        tmp_path, limits(mutation_overrides={"signUp": two_an_hour})
    ) as graphql:
        await graphql.sign_up()
        await graphql.sign_up()

        body = await graphql.execute(
            'mutation { signUp(input: {username: "third_one", email: "third@example.com", '
            'password: "long enough password"}) { token } }'
        )

        assert body["data"] is None and body["errors"][0]["path"] == ["signUp"]
        throttled = rate_limited(body)
        assert throttled is not None and 3_590 < throttled["retryAfterSeconds"] <= 3_600


async def test_create_upload_is_limited_per_viewer(tmp_path: Path) -> None:
    # Given a limit of two upload forms per viewer, and a roomy one per address
    two_per_viewer = MutationLimit(per_client=ROOMY, per_viewer=Window(2, 600))
    rate_limits = limits(mutation_overrides={"createUpload": two_per_viewer})
    async with limited_server(tmp_path, rate_limits) as graphql:
        first, second = await graphql.sign_up(), await graphql.sign_up()
        # When one viewer asks for a third form
        for _ in range(2):
            assert "errors" not in await graphql.execute(CREATE_UPLOAD, token=first.token)
        body = await graphql.execute(CREATE_UPLOAD, token=first.token)
        # Then it waits, with how long
        throttled = rate_limited(body)
        assert throttled is not None and 590 < throttled["retryAfterSeconds"] <= 600
        # And another viewer at the same address is not held up
        assert "errors" not in await graphql.execute(CREATE_UPLOAD, token=second.token)


async def test_any_mutation_is_limited_per_viewer(tmp_path: Path) -> None:
    three_per_viewer = MutationLimit(per_client=ROOMY, per_viewer=Window(3, 600))
    async with limited_server(tmp_path, limits(mutation=three_per_viewer)) as graphql:
        account: Account = await graphql.sign_up()
        update = 'mutation { updateProfile(input: {bio: "hi"}) { errors { code } } }'

        bodies = [await graphql.execute(update, token=account.token) for _ in range(4)]

        assert [rate_limited(body) is not None for body in bodies] == [False, False, False, True]


async def test_any_mutation_is_limited_per_client_address_alias_by_alias(tmp_path: Path) -> None:
    # Given three calls of each mutation per address
    three_per_client = MutationLimit(per_client=Window(3, 600), per_viewer=ROOMY)
    async with limited_server(tmp_path, limits(mutation=three_per_client)) as graphql:
        account = await graphql.sign_up()
        # When one request calls a mutation under four aliases
        aliases = " ".join(
            f'{alias}: updateProfile(input: {{bio: "{alias}"}}) {{ errors {{ code }} }}'
            for alias in "abcd"
        )
        body = await graphql.execute(f"mutation {{ {aliases} }}", token=account.token)
        # Then the fourth is throttled, at its own path
        assert [
            (error["path"], error["extensions"]["code"]) for error in body.get("errors", [])
        ] == [(["d"], "RATE_LIMITED")]


async def forwarded_log_out(graphql: GraphQLClient, forwarded_for: str) -> dict[str, Any]:
    response = await graphql.http.post(
        "/graphql", json={"query": LOG_OUT}, headers={"X-Forwarded-For": forwarded_for}
    )
    body: dict[str, Any] = response.json()
    return body


ONE_PER_CLIENT = MutationLimit(per_client=Window(1, 600), per_viewer=ROOMY)


async def test_x_forwarded_for_is_ignored_from_a_peer_that_is_no_trusted_proxy(
    tmp_path: Path,
) -> None:
    # Given one mutation per address, and no trusted proxy
    async with limited_server(tmp_path, limits(mutation=ONE_PER_CLIENT)) as graphql:
        # When a client claims a fresh address for its second request
        await forwarded_log_out(graphql, "198.51.100.1")
        body = await forwarded_log_out(graphql, "198.51.100.2")
        # Then it is still the one client it connects as
        assert rate_limited(body) is not None


async def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(tmp_path: Path) -> None:
    # Given one mutation per address, behind a trusted proxy (the tests connect from it)
    rate_limits = limits(mutation=ONE_PER_CLIENT)
    async with limited_server(tmp_path, rate_limits, trusted_proxies=["127.0.0.1"]) as graphql:
        # When two clients come through it, one of them forging a hop the second time
        first = await forwarded_log_out(graphql, "198.51.100.1")
        second = await forwarded_log_out(graphql, "198.51.100.2")
        again = await forwarded_log_out(graphql, "203.0.113.9, 198.51.100.1")
        # Then each is counted as itself, and the forged hop changes nothing
        assert rate_limited(first) is None and rate_limited(second) is None
        assert rate_limited(again) is not None
