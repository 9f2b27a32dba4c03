"""Demo data: users with a realistic follow graph, so a newcomer sees a lived-in app.

Follower counts in real networks follow a power law: a few accounts are followed by most
people, most accounts by a handful. The graph below has `CELEBRITY_COUNT` such accounts and
a long tail drawn from a Zipf-like distribution, with a fixed random seed so every run (and
every screenshot in the docs) shows the same data.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from rich.progress import Progress

from app.services import open_runtime
from app.settings import Settings
from resolvers.context import Services
from storage.follow import FollowState

DEMO_PASSWORD = "pictograph-demo"  # printed at start-up: demo accounts are not secrets
DEMO_LOGIN = "ada.lovelace"  # the account the README suggests logging in as
RANDOM_SEED = 2026
CELEBRITY_COUNT = 5
CELEBRITY_FOLLOW_PROBABILITY = 0.6
MEAN_TAIL_FOLLOWS = 25
PRIVATE_SHARE = 0.1

FIRST_NAMES = [
    "ada",
    "alan",
    "grace",
    "linus",
    "margaret",
    "dennis",
    "barbara",
    "ken",
    "radia",
    "tim",
    "katherine",
    "john",
    "frances",
    "edsger",
    "hedy",
    "donald",
    "sophie",
    "guido",
    "anita",
    "bjarne",
    "lynn",
    "yukihiro",
    "jean",
    "niklaus",
    "adele",
]
LAST_NAMES = [
    "lovelace",
    "turing",
    "hopper",
    "torvalds",
    "hamilton",
    "ritchie",
    "liskov",
    "thompson",
    "perlman",
    "lee",
    "johnson",
    "backus",
    "allen",
    "dijkstra",
    "lamarr",
    "knuth",
    "wilson",
    "rossum",
    "borg",
    "stroustrup",
    "conway",
    "matsumoto",
    "sammet",
    "wirth",
    "goldberg",
]


def demo_people(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(username, display name) pairs, unique, the first being DEMO_LOGIN."""
    people = [(DEMO_LOGIN, "Ada Lovelace")]
    seen = {DEMO_LOGIN}
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{first}.{last}"
        if username in seen:
            username = f"{first}.{last}{len(people)}"
        seen.add(username)
        people.append((username, f"{first.title()} {last.title()}"))
    return people


def demo_follows(count: int, rng: random.Random) -> set[tuple[int, int]]:
    """(follower index, followee index) pairs with a power-law in-degree."""
    celebrities = range(1, 1 + CELEBRITY_COUNT)
    weights = [1 / (rank + 1) for rank in range(count)]  # Zipf: popularity falls off by rank
    follows: set[tuple[int, int]] = set()
    for follower in range(count):
        for celebrity in celebrities:
            if celebrity != follower and rng.random() < CELEBRITY_FOLLOW_PROBABILITY:
                follows.add((follower, celebrity))
        tail = min(count - 1, int(rng.expovariate(1 / MEAN_TAIL_FOLLOWS)) + 1)
        for followee in rng.choices(range(count), weights=weights, k=tail):
            if followee != follower:
                follows.add((follower, followee))
    return follows


async def seed_services(services: Services, *, users: int) -> None:
    """Create the demo data once: a second run finds the demo login and does nothing."""
    if await services.stores.users.find_id_by_username(DEMO_LOGIN) is not None:
        return
    rng = random.Random(RANDOM_SEED)
    stores = services.stores
    password_hash = await asyncio.to_thread(services.passwords.hash, DEMO_PASSWORD)
    people = demo_people(users, rng)
    follows = demo_follows(users, rng)
    with Progress() as progress:
        task = progress.add_task("Creating demo users", total=len(people))
        user_ids: list[int] = []
        for username, display_name in people:
            user = await stores.users.insert(
                user_id=services.ids.next_id(),
                username=username,
                email=f"{username}@demo.pictograph.dev",
                password_hash=password_hash,
                created_at=services.clock(),
            )
            await stores.users.update_profile(
                user.id,
                {
                    "display_name": display_name,
                    "bio": f"Demo account of {display_name}.",
                    # The demo login stays public so the newcomer's first look works.
                    "is_private": username != DEMO_LOGIN and rng.random() < PRIVATE_SHARE,
                },
            )
            user_ids.append(user.id)
            progress.advance(task)
        task = progress.add_task("Following", total=len(follows))
        for follower, followee in sorted(follows):
            await stores.follows.insert(
                services.ids.next_id(),
                user_ids[follower],
                user_ids[followee],
                FollowState.FOLLOWING,
            )
            progress.advance(task)
        followers = Counter(followee for _, followee in follows)
        following = Counter(follower for follower, _ in follows)
        task = progress.add_task("Counting", total=len(user_ids))
        for index, user_id in enumerate(user_ids):
            await stores.users.increment_counts(
                user_id, follower=followers[index], following=following[index]
            )
            progress.advance(task)


async def seed_demo_data(settings: Settings, *, users: int) -> None:
    async with open_runtime(settings) as runtime:
        await seed_services(runtime.services, users=users)
