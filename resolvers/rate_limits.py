"""Every abuse limit, with its reason: the policy in one place.

Mutations are counted per client address (which may be a whole office or a carrier's NAT,
hence generous) and per signed-in viewer (one person: tighter). Log-ins have their own
back-off (see `resolvers/account.py`). Every limit answers RATE_LIMITED with
`extensions.retryAfterSeconds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from resolvers.errors import RateLimited
from storage.rate_limit import BackOff, Window

if TYPE_CHECKING:  # the context carries these limits: a runtime import would be a cycle
    from resolvers.context import Context

MINUTE = 60
HOUR = 60 * MINUTE


@dataclass(frozen=True, slots=True)
class MutationLimit:
    per_client: Window
    per_viewer: Window


# Any mutation: two a second for a minute is beyond what a person taps; an address may be
# hundreds of people behind one NAT.
MUTATIONS_PER_VIEWER = Window(attempts=120, seconds=MINUTE)
MUTATIONS_PER_CLIENT = Window(attempts=1_200, seconds=MINUTE)
# Sign-ups: a household or an office makes a few accounts an hour; a script makes hundreds
# (672 a minute were measured before this limit).
SIGN_UPS_PER_CLIENT = Window(attempts=20, seconds=HOUR)
SIGN_UPS_PER_VIEWER = Window(attempts=5, seconds=HOUR)  # signed in, making more accounts
# createUpload: a post takes at most 10 photos, so 60 in ten minutes is six full posts;
# every form is a signed write to object storage (1,126 a minute were measured).
UPLOADS_PER_VIEWER = Window(attempts=60, seconds=10 * MINUTE)
UPLOADS_PER_CLIENT = Window(attempts=600, seconds=10 * MINUTE)
# logIn is also counted as any mutation; its guesses are limited by the back-offs below.

# Log-ins per account (username and email alike): 5 failures are typos and a forgotten
# password; then each failure makes the next attempt wait 1 s, 2 s, 4 s ... up to 15
# minutes (OWASP's Authentication Cheat Sheet prefers an exponential back-off to a lock-out
# that anyone could impose on a victim). About 100 guesses a day at most, and the owner
# gets in as soon as a wait is over; a success forgets the failures.
LOGIN_PER_ACCOUNT = BackOff(
    free_failures=5, first_delay_seconds=1, max_delay_seconds=15 * MINUTE, memory_seconds=24 * HOUR
)
# Failed log-ins per client address, whatever the accounts: one password sprayed over many
# accounts stops after 20 failures (674 a minute were measured before this limit), then
# backs off the same way; successes from the address are not counted.
LOGIN_FAILURES_PER_CLIENT = BackOff(
    free_failures=20, first_delay_seconds=1, max_delay_seconds=15 * MINUTE, memory_seconds=HOUR
)


def _default_overrides() -> dict[str, MutationLimit]:
    return {
        "signUp": MutationLimit(per_client=SIGN_UPS_PER_CLIENT, per_viewer=SIGN_UPS_PER_VIEWER),
        "createUpload": MutationLimit(per_client=UPLOADS_PER_CLIENT, per_viewer=UPLOADS_PER_VIEWER),
    }


@dataclass(frozen=True)
class RateLimits:
    """The limits a server enforces: the defaults above unless a deployment (or a test)
    chooses others. Mutation names are the schema's (camelCase)."""

    mutation: MutationLimit = MutationLimit(
        per_client=MUTATIONS_PER_CLIENT, per_viewer=MUTATIONS_PER_VIEWER
    )
    mutation_overrides: dict[str, MutationLimit] = field(default_factory=_default_overrides)
    login_per_account: BackOff = LOGIN_PER_ACCOUNT
    login_failures_per_client: BackOff = LOGIN_FAILURES_PER_CLIENT

    def for_mutation(self, name: str) -> MutationLimit:
        return self.mutation_overrides.get(name, self.mutation)


def client_subject(context: Context) -> str:
    return f"client:{context.client_address}"


async def check_mutation(context: Context, name: str) -> None:
    """Count one call of the mutation `name` for the client and the viewer; RATE_LIMITED
    when either is over its limit."""
    limit = context.services.rate_limits.for_mutation(name)
    action = f"mutation:{name}"
    counters = [(action, client_subject(context), limit.per_client)]
    if context.viewer is not None:
        counters.append((action, f"viewer:{context.viewer.id}", limit.per_viewer))
    hit = await context.services.rate_limiter.hit_all(counters)
    if not hit.allowed:
        raise RateLimited(
            f"Too many {name} requests; try again later.",
            retry_after_seconds=hit.retry_after_seconds,
        )
