"""Demo data: users with a realistic follow graph, so a newcomer sees a lived-in app.

Follower counts in real networks follow a power law: a few accounts are followed by most
people, most accounts by a handful. The graph below has `CELEBRITY_COUNT` such accounts and
a long tail drawn from a Zipf-like distribution, with a fixed random seed so every run (and
every screenshot in the docs) shows the same data.
"""

from __future__ import annotations

import asyncio
import io
import random
from collections import Counter

from PIL import Image, ImageDraw
from rich.progress import Progress

from app.services import open_runtime
from app.settings import Settings
from resolvers.comment import add_comment
from resolvers.context import Context, Services
from resolvers.ids import to_global_id
from resolvers.like import like_post
from resolvers.post import create_post
from resolvers.upload import create_upload
from storage.follow import FollowState

DEMO_PASSWORD = "pictograph-demo"  # printed at start-up: demo accounts are not secrets
DEMO_LOGIN = "ada.lovelace"  # the account the README suggests logging in as
RANDOM_SEED = 2026
CELEBRITY_COUNT = 5
CELEBRITY_FOLLOW_PROBABILITY = 0.6
MEAN_TAIL_FOLLOWS = 25
PRIVATE_SHARE = 0.1
POSTING_USERS = 40  # the most followed accounts post, so every home feed has photos
MAX_POSTS_EACH = 4
MAX_LIKES_EACH = 25
MAX_COMMENTS_EACH = 3
DEMO_PHOTO_SIDE = 960
CAPTIONS = ("Golden hour", "Weekend mood", "New favourite spot", "Colours", "Hello world")
HASHTAGS = ("sunset", "travel", "art", "weekend", "colours")
COMMENTS = ("Love this!", "Stunning", "Where is this?", "So good", "Wow")

FIRST_NAMES = (
    "ada alan grace linus margaret dennis barbara ken radia tim katherine john frances "
    "edsger hedy donald sophie guido anita bjarne lynn yukihiro jean niklaus adele"
).split()
LAST_NAMES = (
    "lovelace turing hopper torvalds hamilton ritchie liskov thompson perlman lee johnson "
    "backus allen dijkstra lamarr knuth wilson rossum borg stroustrup conway matsumoto "
    "sammet wirth goldberg"
).split()


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
    celebrities = range(1, min(count, 1 + CELEBRITY_COUNT))  # fewer in a tiny demo
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
        await seed_posts(services, user_ids, rng, progress)


async def seed_posts(
    services: Services, user_ids: list[int], rng: random.Random, progress: Progress
) -> None:
    """Posts with generated photos, through the same path a client takes (upload, render,
    create), then likes and comments from other demo users."""
    authors = user_ids[:POSTING_USERS]
    plan = [(author, n) for author in authors for n in range(rng.randint(1, MAX_POSTS_EACH))]
    task = progress.add_task("Posting photos", total=len(plan))
    post_ids: list[str] = []
    for author, _ in plan:
        context = await _context_for(services, author)
        upload_id = await _upload_photo(services, context, rng)
        caption = f"{rng.choice(CAPTIONS)} #{rng.choice(HASHTAGS)}"
        result = await create_post(context, [upload_id], caption, None)
        if result.post is not None:
            post_ids.append(to_global_id("Post", result.post.id))
        progress.advance(task)
    task = progress.add_task("Liking and commenting", total=len(post_ids))
    for post_id in post_ids:
        # At most everyone: a small demo (the tests') has fewer users than MAX_LIKES_EACH.
        for liker in rng.sample(user_ids, min(len(user_ids), rng.randint(0, MAX_LIKES_EACH))):
            await like_post(await _context_for(services, liker), post_id)
        for commenter in rng.sample(
            user_ids, min(len(user_ids), rng.randint(0, MAX_COMMENTS_EACH))
        ):
            await add_comment(
                await _context_for(services, commenter), post_id, rng.choice(COMMENTS), None
            )
        progress.advance(task)


async def _context_for(services: Services, user_id: int) -> Context:
    viewer = (await services.stores.users.find_by_ids([user_id]))[user_id]
    return Context.for_viewer(services, viewer)


async def _upload_photo(services: Services, context: Context, rng: random.Random) -> str:
    """Store a generated photo as the viewer's upload, as the signed form would."""
    data = await asyncio.to_thread(demo_photo, rng.random())
    created = await create_upload(context, "image/jpeg", len(data))
    assert created.upload is not None, created.errors
    await services.objects.write(created.upload.record.key, data, content_type="image/jpeg")
    return to_global_id("Upload", created.upload.record.id)


def demo_photo(seed: float) -> bytes:
    """A colourful abstract picture: a diagonal gradient and a few translucent discs."""
    rng = random.Random(seed)
    side = DEMO_PHOTO_SIDE
    start, end = (tuple(rng.randint(0, 255) for _ in range(3)) for _ in range(2))
    mask = Image.linear_gradient("L").rotate(rng.choice((0, 45, 90, 135))).resize((side, side))
    image = Image.composite(
        Image.new("RGB", (side, side), start), Image.new("RGB", (side, side), end), mask
    )
    overlay = Image.new("RGBA", (side, side))
    draw = ImageDraw.Draw(overlay)
    for _ in range(rng.randint(3, 7)):
        x, y, r = rng.randint(0, side), rng.randint(0, side), rng.randint(side // 12, side // 4)
        colour = (*(rng.randint(0, 255) for _ in range(3)), rng.randint(90, 200))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    output = io.BytesIO()
    image.save(output, "JPEG", quality=90)
    return output.getvalue()


async def seed_demo_data(settings: Settings, *, users: int) -> None:
    async with open_runtime(settings) as runtime:
        await seed_services(runtime.services, users=users)
