"""Demo data: users with a realistic follow graph and tastes, so a newcomer sees a lived-in
app and the interaction log carries signal.

The demo world is `ranking/simulation.py`'s, with a fixed seed so every run (and every
screenshot in the docs) shows the same data: users with hidden tastes (topics, favourite
authors, activity, the hour they are online), a follow graph whose follower counts follow a
power law (a few accounts followed by most people, most by a handful) and lean towards
like-minded accounts, a day of posts tagged with their topic, stories, and a few reels of
short videos generated at seed time (their transcodes are the worker's, as any reel's, so
they turn READY a moment after the server starts). Each follower likes and
comments on a post with the simulator's true probability, through the same resolvers a
client calls, so the likes, comments and the affinity counters they feed reflect the tastes,
as the logs the model is trained on do (`pictograph train-ranker` simulates those directly,
for many more users and days, without a server).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import av
import numpy as np
from PIL import Image, ImageDraw
from rich.progress import Progress

from app.services import open_runtime
from app.settings import Settings
from ranking.simulation import SimulationConfig, World, make_world, true_probabilities
from resolvers.comment import add_comment
from resolvers.context import Context, Services
from resolvers.ids import to_global_id
from resolvers.like import like_post
from resolvers.post import create_post
from resolvers.reel import create_reel
from resolvers.story import create_story, mark_story_seen
from resolvers.upload import create_upload
from storage.follow import FollowState

DEMO_PASSWORD = "pictograph-demo"  # printed at start-up: demo accounts are not secrets
DEMO_LOGIN = "ada.lovelace"  # the account the README suggests logging in as
RANDOM_SEED = 2026
PRIVATE_SHARE = 0.1
DEMO_DAYS = 1  # a day of the simulated world's posts: ~90 photos for 300 users
ENGAGED_AFTER_HOURS = 6.0  # likes and comments as the post's first hours would bring them
DEMO_PHOTO_SIDE = 960
CAPTIONS = ("Golden hour", "Weekend mood", "New favourite spot", "Colours", "Hello world")
COMMENTS = ("Love this!", "Stunning", "Where is this?", "So good", "Wow")
STORY_USERS = 15  # the most followed accounts, the demo login first, share stories
MAX_STORIES_EACH = 3
# How long ago each story was shared: some fresh, some expiring within the hour.
STORY_AGES = (timedelta(minutes=5), timedelta(hours=3), timedelta(hours=12),
              timedelta(hours=23, minutes=20), timedelta(hours=23, minutes=50))  # fmt: skip
STORY_SEEN_SHARE = 0.5  # of the stories the demo login may see, those already seen
# Reels: a few accounts after the demo login (hers are not in her own stream) each share a
# short generated clip. Small and fast: a 2 s 360x640 clip encodes in ~0.1 s of CPU.
REEL_USERS = 6
DEMO_CLIP_SECONDS = 2.0
DEMO_CLIP_SIZE = (360, 640)  # portrait, as phones record reels
DEMO_CLIP_FPS = 24
REEL_CAPTIONS = ("Tiny dance #motion", "Orbit #loop", "Sunset in two seconds #colours")

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


def demo_world(count: int) -> World:
    return make_world(SimulationConfig(users=count, days=DEMO_DAYS, seed=RANDOM_SEED))


def demo_follows(world: World) -> set[tuple[int, int]]:
    """(follower index, followee index) pairs of the demo world."""
    followers, followees = np.nonzero(world.follows)
    return {(int(a), int(b)) for a, b in zip(followers, followees, strict=True)}


async def seed_services(services: Services, *, users: int) -> None:
    """Create the demo data once: a second run finds the demo login and does nothing."""
    if await services.stores.users.find_id_by_username(DEMO_LOGIN) is not None:
        return
    rng = random.Random(RANDOM_SEED)
    stores = services.stores
    password_hash = await asyncio.to_thread(services.passwords.hash, DEMO_PASSWORD)
    people = demo_people(users, rng)
    world = demo_world(users)
    follows = demo_follows(world)
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
        await seed_posts(services, user_ids, world, rng, progress)
        await seed_stories(services, user_ids, rng, progress)
        await seed_reels(services, user_ids, rng, progress)


async def seed_posts(
    services: Services,
    user_ids: list[int],
    world: World,
    rng: random.Random,
    progress: Progress,
) -> None:
    """The world's posts with generated photos, through the same path a client takes
    (upload, render, create), tagged with their topics; then each follower of the author
    likes and comments with the simulator's true probability."""
    task = progress.add_task("Posting photos", total=len(world.post_author))
    post_ids: list[str | None] = []  # None: refused (its likes are skipped)
    for post, author in enumerate(world.post_author):
        context = await _context_for(services, user_ids[int(author)])
        upload_id = await _upload_photo(services, context, rng)
        tags = " ".join(f"#{tag}" for tag in world.hashtags(post))
        result = await create_post(context, [upload_id], f"{rng.choice(CAPTIONS)} {tags}", None)
        post_ids.append(None if result.post is None else to_global_id("Post", result.post.id))
        progress.advance(task)
    draws = np.random.default_rng(RANDOM_SEED)
    task = progress.add_task("Liking and commenting", total=len(user_ids))
    for viewer, user_id in enumerate(user_ids):
        seen = np.flatnonzero(world.follows[viewer, world.post_author])
        hours = world.post_hour[seen] + ENGAGED_AFTER_HOURS
        truth = true_probabilities(world, viewer, seen, hours)
        acted = draws.random(truth.shape) < truth
        context = await _context_for(services, user_id)
        for index, post in enumerate(seen):
            post_id = post_ids[post]
            if post_id is not None and acted[index, 0]:
                await like_post(context, post_id)
            if post_id is not None and acted[index, 1]:
                await add_comment(context, post_id, rng.choice(COMMENTS), None)
        progress.advance(task)


async def seed_stories(
    services: Services, user_ids: list[int], rng: random.Random, progress: Progress
) -> None:
    """Stories shared at various times through the same path a client takes, oldest first,
    some expiring soon; the demo login has seen about half of those it may see."""
    plan = sorted(
        (rng.choice(STORY_AGES), author)
        for author in user_ids[:STORY_USERS]
        for _ in range(rng.randint(1, MAX_STORIES_EACH))
    )
    task = progress.add_task("Sharing stories", total=len(plan))
    now = services.clock()
    story_ids: list[str] = []
    for age, author in reversed(plan):
        back_then = dataclasses.replace(services, clock=_stopped_clock(now - age))
        context = await _context_for(back_then, author)
        result = await create_story(context, await _upload_photo(back_then, context, rng))
        if result.story is not None and author != user_ids[0]:
            story_ids.append(to_global_id("Story", result.story.id))
        progress.advance(task)
    demo = await _context_for(services, user_ids[0])
    for story_id in story_ids:
        if rng.random() < STORY_SEEN_SHARE:
            await mark_story_seen(demo, story_id)  # refused, and harmless, where hidden


async def seed_reels(
    services: Services, user_ids: list[int], rng: random.Random, progress: Progress
) -> None:
    """A generated clip each, uploaded and shared through the same path a client takes; the
    worker transcodes them (in the server, for `serve --seed`)."""
    authors = user_ids[1 : 1 + REEL_USERS]
    task = progress.add_task("Sharing reels", total=len(authors))
    for author in authors:
        context = await _context_for(services, author)
        data = await asyncio.to_thread(demo_clip, rng.random())
        created = await create_upload(context, "video/mp4", len(data))
        assert created.upload is not None, created.errors
        await services.objects.write(created.upload.record.key, data, content_type="video/mp4")
        upload_id = to_global_id("Upload", created.upload.record.id)
        result = await create_reel(context, upload_id, rng.choice(REEL_CAPTIONS), None)
        assert result.post is not None, result.errors
        progress.advance(task)


def demo_clip(seed: float) -> bytes:
    """A short H.264/AAC MP4: a disc circling over a moving gradient, and a soft tone."""
    rng = random.Random(seed)
    width, height = DEMO_CLIP_SIZE
    frames = round(DEMO_CLIP_SECONDS * DEMO_CLIP_FPS)
    base = np.array([rng.randint(0, 255) for _ in range(3)], dtype=np.float32)
    disc = np.array([rng.randint(0, 255) for _ in range(3)], dtype=np.uint8)
    rows = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    ys, xs = np.mgrid[0:height, 0:width]
    output = io.BytesIO()
    with av.open(output, "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=DEMO_CLIP_FPS, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=48_000)
        audio.layout = "mono"
        for index in range(frames):
            phase = index / frames
            shade = (base * (0.6 + 0.4 * rows) + 80 * phase) % 255
            pixels = np.broadcast_to(shade, (height, width, 3)).astype(np.uint8)
            angle = 2 * np.pi * phase
            cx, cy = width / 2 + width / 3 * np.cos(angle), height / 2 + height / 4 * np.sin(angle)
            inside = (xs - cx) ** 2 + (ys - cy) ** 2 < (width / 8) ** 2
            pixels = pixels.copy()
            pixels[inside] = disc
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        pitch = rng.choice((220.0, 330.0, 440.0))
        for start in range(0, round(DEMO_CLIP_SECONDS * 48_000), 1024):
            times = (np.arange(1024) + start) / 48_000
            tone = (0.1 * np.sin(2 * np.pi * pitch * times)).astype(np.float32).reshape(1, -1)
            sound = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            sound.sample_rate, sound.pts = 48_000, start
            container.mux(audio.encode(sound))
        container.mux(audio.encode(None))
    return output.getvalue()


def _stopped_clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


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
