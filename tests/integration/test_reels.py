"""Reels: created from an MP4 upload as PROCESSING, made READY (or FAILED, with the reason) by
the video job, shown in the ranked reels stream only when READY and only where the
visibility policy allows, and counted as they are watched. Bad input is refused with a
payload error naming the field, leaving no reel and no media behind.

Against a real redis-server (a database of its own, whose jobs these tests run themselves,
as the worker would: `StoryWorld.drain`)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from app.services import open_runtime
from bench.roundtrips import CountingDatabase, RoundTrips, counting_redis
from jobs.video import run_video_job
from media import video as media_video
from ranking.model import Features, Probabilities
from ranking.onnx_model import OnnxEngagementModel
from ranking.ranker import Ranker
from resolvers.ids import parse_typed_id, to_global_id
from storage.mongo import Database
from storage.post import MediaRecord, PostRecord, RenditionRecord
from storage.stores import Stores
from storage.upload import UploadState
from storage.user import UserRecord
from storage.video import VideoJob, VideoOwner, VideoState, VideoStatus
from tests.conftest import make_settings
from tests.media import jpeg
from tests.reels import CLIP
from tests.stories import BLOCK, Clock, StoryWorld, gid
from tests.videos import mp4, truncated

REELS_REDIS_DATABASE = 5  # no test server's worker reads this database's jobs
CREATE = """mutation ($upload: ID!, $caption: String, $cmid: String) {
  createReel(input: {uploadId: $upload, caption: $caption, clientMutationId: $cmid}) {
    reel { id status video { url } posterUrl } errors { code field message } } }"""
NODE = """query ($id: ID!) { node(id: $id) { ... on Reel { id status failureReason viewCount
  likeCount commentCount video { url durationSeconds width height } posterUrl } } }"""
REELS = """query ($first: Int, $after: String) { reels(first: $first, after: $after) {
  edges { cursor node { id author { id } viewCount } } pageInfo { hasNextPage endCursor } } }"""
VIEW = """mutation ($id: ID!, $seconds: Float!) { recordReelView(reelId: $id,
  watchedSeconds: $seconds) { ok errors { code field message } } }"""
LIKE = "mutation ($id: ID!) { likePost(postId: $id) { post { likeCount } errors { code } } }"
COMMENT = """mutation ($id: ID!) { addComment(input: {postId: $id, text: "nice"}) {
  comment { id } errors { code } } }"""
PROFILE_POSTS = """query ($name: String!) { user(username: $name) { postCount
  posts(first: 10) { edges { node { id } } } } }"""
FEED = "{ feed(first: 50) { edges { node { id } } } }"


@pytest.fixture
async def world(redis_url: str, tmp_path: Path) -> AsyncIterator[StoryWorld]:
    own = f"{redis_url.rsplit('/', 1)[0]}/{REELS_REDIS_DATABASE}"
    settings = make_settings(own, media_dir=str(tmp_path / "media"))
    async with open_runtime(settings) as runtime:
        await runtime.services.redis.flushdb()
        yield StoryWorld(runtime, Clock())


def stored_objects(world: StoryWorld) -> set[str]:
    """Every object in the (local) storage: media and uploads."""
    local = world.runtime.local_storage
    assert local is not None
    return {
        str(path.relative_to(local.root))
        for path in local.root.rglob("*")
        if path.is_file() and not path.name.endswith(".meta")
    }


def reel_id(global_id: str) -> int:
    parsed = parse_typed_id(global_id, "Reel")
    assert parsed is not None
    return parsed


async def create(
    world: StoryWorld, author: UserRecord, data: bytes = CLIP, **variables: Any
) -> Any:
    upload = await world.upload(author, data, variables.pop("content_type", "video/mp4"))
    return await world.data(CREATE, author, upload=upload, **variables)


async def ready(world: StoryWorld, author: UserRecord, caption: str = "") -> str:
    payload = await create(world, author, caption=caption)
    assert payload["errors"] == [], payload["errors"]
    await world.drain()
    return str(payload["reel"]["id"])


async def node(world: StoryWorld, viewer: UserRecord, global_id: str) -> Any:
    return await world.data(NODE, viewer, id=global_id)


async def stream_ids(world: StoryWorld, viewer: UserRecord, first: int = 50) -> list[str]:
    page = await world.data(REELS, viewer, first=first)
    return [edge["node"]["id"] for edge in page["edges"]]


# --- creating, processing -------------------------------------------------------------------


async def test_a_new_reel_is_processing_and_seen_by_its_author_alone(world: StoryWorld) -> None:
    """Given an MP4 upload, when it becomes a reel, then the reel is PROCESSING with no
    video but a poster, its author sees it by node(id:), and nobody else sees it anywhere."""
    author, other = await world.user(), await world.user()

    payload = await create(world, author, caption="hello")

    reel = payload["reel"]
    assert payload["errors"] == []
    assert (reel["status"], reel["video"]) == ("PROCESSING", None)
    assert reel["posterUrl"].endswith(".jpg")
    assert (await node(world, author, reel["id"]))["status"] == "PROCESSING"
    assert await node(world, other, reel["id"]) is None
    assert reel["id"] not in await stream_ids(world, other)


async def test_the_job_makes_the_reel_ready_with_its_rendition_and_removes_the_upload(
    world: StoryWorld,
) -> None:
    author, other = await world.user(), await world.user()
    payload = await create(world, author)
    upload_keys = {key for key in stored_objects(world) if key.startswith("uploads/")}

    assert await world.drain() == 1

    shown = await node(world, other, payload["reel"]["id"])
    assert shown["status"] == "READY" and shown["failureReason"] is None
    video = shown["video"]
    assert (video["width"], video["height"]) == (320, 240)
    assert video["durationSeconds"] == pytest.approx(1.0, abs=0.1)
    key = video["url"].split("/", 3)[-1].split("/", 1)[-1]
    assert any(stored.endswith(key.rsplit("/", 1)[-1]) for stored in stored_objects(world))
    assert upload_keys and not upload_keys & stored_objects(world)  # the source is gone


async def test_a_transcode_that_fails_leaves_the_reel_failed_with_the_reason(
    world: StoryWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a reel whose transcode breaks its time bound, when the job runs, then the reel
    is FAILED with the reason, shown to its author only, and in no stream."""
    author, other = await world.user(), await world.user()
    payload = await create(world, author)
    monkeypatch.setattr(media_video, "MAX_TRANSCODE_SECONDS", -1.0)

    await world.drain()

    failed = await node(world, author, payload["reel"]["id"])
    assert failed["status"] == "FAILED" and failed["video"] is None
    assert failed["failureReason"] == "The video took too long to process."
    assert await node(world, other, payload["reel"]["id"]) is None
    assert payload["reel"]["id"] not in await stream_ids(world, other)


async def test_a_reel_whose_upload_vanished_fails_with_the_reason(world: StoryWorld) -> None:
    author = await world.user()
    payload = await create(world, author)
    record = await world.services.stores.posts.find_by_ids([reel_id(payload["reel"]["id"])])
    [reel] = record.values()
    assert reel.video is not None
    await world.services.objects.delete(reel.video.source_key)

    await world.drain()

    failed = await node(world, author, payload["reel"]["id"])
    assert (failed["status"], failed["failureReason"]) == ("FAILED", "The uploaded video is gone.")


async def test_a_redelivered_video_job_changes_nothing_and_leaves_no_extra_object(
    world: StoryWorld,
) -> None:
    """Given a reel made READY by its job, when the same job is delivered again, then the
    reel is as it was and storage holds the same objects (the job is idempotent)."""
    author = await world.user()
    payload = await create(world, author)
    record_id = reel_id(payload["reel"]["id"])
    [before] = (await world.services.stores.posts.find_by_ids([record_id])).values()
    assert before.video is not None
    job = VideoJob(VideoOwner.REEL, record_id, before.video.source_key)
    await world.drain()
    [done] = (await world.services.stores.posts.find_by_ids([record_id])).values()
    objects = stored_objects(world)

    await run_video_job(world.runtime.jobs, job)

    [after] = (await world.services.stores.posts.find_by_ids([record_id])).values()
    assert after == done and after.video is not None
    assert after.video.status is VideoStatus.READY
    assert stored_objects(world) == objects


async def test_a_status_moves_once_even_if_a_second_job_finishes_later(
    world: StoryWorld,
) -> None:
    """Two deliveries that both transcoded: the second's finish finds the reel READY and
    does not move it (to FAILED, say)."""
    author = await world.user()
    payload = await create(world, author)
    record_id = reel_id(payload["reel"]["id"])
    await world.drain()
    posts = world.services.stores.posts
    [done] = (await posts.find_by_ids([record_id])).values()
    assert done.video is not None
    failed = dataclasses.replace(done.video, status=VideoStatus.FAILED, failure="late")

    assert await posts.finish_video(record_id, failed, done.media) is False
    assert (await posts.find_by_ids([record_id]))[record_id] == done


async def test_a_retried_create_with_the_same_client_mutation_id_returns_the_first_reel(
    world: StoryWorld,
) -> None:
    author = await world.user()
    first = await create(world, author, cmid="retry-1")

    again = await create(world, author, cmid="retry-1")

    assert again["reel"]["id"] == first["reel"]["id"]
    assert await world.drain() == 1  # one reel, one job


async def test_reels_stay_out_of_the_grid_the_post_count_and_the_home_feed(
    world: StoryWorld,
) -> None:
    author, follower = await world.user(), await world.user()
    await world.follow(follower, author)
    reel = await ready(world, author, caption="#tag")

    profile = await world.data(PROFILE_POSTS, follower, name=author.username)
    feed = await world.data(FEED, follower)

    assert profile == {"postCount": 0, "posts": {"edges": []}}
    assert reel not in [edge["node"]["id"] for edge in feed["edges"]]


async def test_a_reel_is_liked_and_commented_on_with_the_post_mutations(
    world: StoryWorld,
) -> None:
    author, fan = await world.user(), await world.user()
    reel = await ready(world, author)

    liked = await world.data(LIKE, fan, id=reel)
    commented = await world.data(COMMENT, fan, id=reel)

    assert liked == {"post": {"likeCount": 1}, "errors": []}
    assert commented["errors"] == []
    shown = await node(world, fan, reel)
    assert (shown["likeCount"], shown["commentCount"]) == (1, 1)


# --- bad input ------------------------------------------------------------------------------


BAD_VIDEOS = {
    "not a video": jpeg(64, 64),
    "audio only": mp4(video=False),
    "truncated": truncated(CLIP),
    "truncated, index first": truncated(mp4(faststart=True), keep=0.9),
    "over 90 s": mp4(seconds=91, width=32, height=32, fps=1, audio=False),
    "over 4K": mp4(seconds=0.04, width=4098, height=16, audio=False),
}


@pytest.mark.parametrize("case", sorted(BAD_VIDEOS))
async def test_a_bad_video_is_refused_naming_the_upload_and_leaves_nothing(
    world: StoryWorld, case: str
) -> None:
    """Given bytes declared as an MP4 that are no video within the limits, when a reel is
    made of them, then the payload error names `uploadId`, no reel exists, the upload is
    still unused, no media object was stored and no job was queued."""
    author = await world.user()
    upload = await world.upload(author, BAD_VIDEOS[case], "video/mp4")
    before = stored_objects(world)

    payload = await world.data(CREATE, author, upload=upload)

    assert payload["reel"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "uploadId")]
    assert stored_objects(world) == before
    assert await world.drain() == 0
    [record] = (await world.services.stores.uploads.find_by_ids([_upload_id(upload)])).values()
    assert record.state is UploadState.PENDING
    assert await world.services.stores.posts.ready_reel_ids(author_ids=[author.id], limit=5) == []


async def test_a_photo_upload_given_to_create_reel_is_refused(world: StoryWorld) -> None:
    author = await world.user()

    payload = await create(world, author, jpeg(320, 240), content_type="image/jpeg")

    assert payload["errors"][0]["field"] == "uploadId"
    assert payload["errors"][0]["message"] == "The upload is not an MP4 video."


async def test_another_users_upload_is_refused_as_not_found(world: StoryWorld) -> None:
    author, thief = await world.user(), await world.user()
    upload = await world.upload(author, CLIP, "video/mp4")

    payload = await world.data(CREATE, thief, upload=upload)

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "uploadId")]


# --- views ----------------------------------------------------------------------------------


async def test_a_view_counts_once_per_viewer_and_every_watch_is_logged_capped(
    world: StoryWorld,
) -> None:
    author, fan = await world.user(), await world.user()
    reel = await ready(world, author)
    interactions = world.services.interactions
    await interactions.flush()

    for seconds in (0.4, 50.0, 2.0):
        assert (await world.data(VIEW, fan, id=reel, seconds=seconds))["ok"] is True
    await interactions.flush()

    assert (await node(world, fan, reel))["viewCount"] == 1
    logged = await world.services.stores.interactions.since(world.clock() - _minute(), limit=50)
    watches = [row for row in logged if row["kind"] == "reel_watch" and row["viewer_id"] == fan.id]
    assert [row["watched_seconds"] for row in watches] == pytest.approx([0.4, 1.0, 1.0], abs=0.05)


@pytest.mark.parametrize("seconds", [-1.0, -0.001, 3_600.5, 1e12])
async def test_negative_or_absurd_seconds_are_refused_naming_watched_seconds(
    world: StoryWorld, seconds: float
) -> None:
    author, fan = await world.user(), await world.user()
    reel = await ready(world, author)

    payload = await world.data(VIEW, fan, id=reel, seconds=seconds)

    assert payload["ok"] is False
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "watchedSeconds")]
    assert (await node(world, author, reel))["viewCount"] == 0


async def test_a_view_of_a_reel_not_ready_or_hidden_is_refused_naming_the_reel(
    world: StoryWorld,
) -> None:
    author, fan = await world.user(), await world.user()
    processing = (await create(world, author))["reel"]["id"]

    payload = await world.data(VIEW, fan, id=processing, seconds=1.0)

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "reelId")]


# --- the stream -----------------------------------------------------------------------------


async def insert_ready_reels(world: StoryWorld, author: UserRecord, count: int) -> list[str]:
    """READY reels written straight through the store (as the job leaves them), newest
    last: the stream tests need many, not their transcodes."""
    services, ids = world.services, []
    for _ in range(count):
        reel_id_ = services.ids.next_id()
        media = MediaRecord(
            id=services.ids.next_id(), type="VIDEO", width=320, height=240,
            renditions=(RenditionRecord(320, 240, f"media/{reel_id_}.mp4"),),
            poster_key=f"media/{reel_id_}.jpg",
        )  # fmt: skip
        reel = PostRecord(
            id=reel_id_, author_id=author.id, caption="", hashtags=(), mention_ids=(),
            media=(media,), like_count=0, comment_count=0, preview_comments=(),
            created_at=services.clock(),
            video=VideoState(VideoStatus.READY, f"uploads/{author.id}/x", 1.0),
        )  # fmt: skip
        await services.stores.posts.insert(reel, client_mutation_id=None)
        ids.append(to_global_id("Reel", reel_id_))
    return ids


async def test_the_stream_shows_public_and_followed_private_reels_never_blocked_or_own(
    world: StoryWorld,
) -> None:
    viewer = await world.user()
    public, private_followed = await world.user(), await world.user(private=True)
    private_stranger, blocked = await world.user(private=True), await world.user()
    await world.follow(viewer, private_followed)
    await world.data(BLOCK, blocked, id=gid(viewer))
    shown = [
        *await insert_ready_reels(world, public, 1),
        *await insert_ready_reels(world, private_followed, 1),
    ]
    hidden = [
        *await insert_ready_reels(world, private_stranger, 1),
        *await insert_ready_reels(world, blocked, 1),
        *await insert_ready_reels(world, viewer, 1),
    ]

    stream = await stream_ids(world, viewer)

    assert sorted(stream) == sorted(shown)
    assert not set(hidden) & set(stream)


async def test_cursors_page_through_the_window_without_repeats_as_new_reels_arrive(
    world: StoryWorld,
) -> None:
    viewer, author = await world.user(), await world.user()
    made = await insert_ready_reels(world, author, 7)
    pages: list[str] = []
    after = None
    while True:
        page = await world.data(REELS, viewer, first=3, after=after)
        pages += [edge["node"]["id"] for edge in page["edges"]]
        await insert_ready_reels(world, author, 1)  # arrives while the viewer pages
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert sorted(pages) == sorted(made)


class CountingModel:
    """The shipped model, counting its calls: one per ranked window."""

    def __init__(self) -> None:
        self.calls = 0
        self._model = OnnxEngagementModel()

    async def predict(self, features: Features) -> Probabilities:
        self.calls += 1
        return await self._model.predict(features)


async def counted_stream_read(
    world: StoryWorld, redis_url: str, viewer: UserRecord, first: int
) -> tuple[int, int, int, int]:
    """(MongoDB round trips, Redis round trips, model calls, reels shown) of one first page
    of the stream, after a read that warmed the caches."""
    mongo, redis = RoundTrips(), RoundTrips()
    client = counting_redis(f"{redis_url.rsplit('/', 1)[0]}/{REELS_REDIS_DATABASE}", redis)
    model = CountingModel()
    database = cast("Database", CountingDatabase(world.runtime.database, mongo))
    services = dataclasses.replace(
        world.services, stores=Stores.create(database, client), redis=client, ranker=Ranker(model)
    )
    counted = StoryWorld(dataclasses.replace(world.runtime, services=services), world.clock)
    try:
        await counted.data(REELS, viewer, first=first)
        mongo.reset()
        redis.reset()
        model.calls = 0
        page = await counted.data(REELS, viewer, first=first)
    finally:
        await client.aclose()
    return mongo.total, redis.total, model.calls, len(page["edges"])


async def test_a_reels_page_costs_the_same_round_trips_and_one_model_call_for_5_and_20(
    world: StoryWorld, redis_url: str
) -> None:
    """Given viewers with 5 and with 20 reels to see (each by an author of its own, the
    worst case for per-author reads), when each reads a first page of all of them, then
    both cost the same MongoDB and Redis round trips and one model call."""
    counts = []
    for size in (5, 20):
        viewer = await world.user()
        for _ in range(size):
            await insert_ready_reels(world, await world.user(), 1)
        await world.services.redis.flushdb()  # no earlier windows or caches
        counts.append(await counted_stream_read(world, redis_url, viewer, first=size))
        await world.runtime.database["posts"].delete_many({})

    (mongo_5, redis_5, calls_5, shown_5), (mongo_20, redis_20, calls_20, shown_20) = counts
    assert (shown_5, shown_20) == (5, 20)
    assert (mongo_5, redis_5) == (mongo_20, redis_20)
    assert calls_5 == calls_20 == 1


def _upload_id(global_id: str) -> int:
    parsed = parse_typed_id(global_id, "Upload")
    assert parsed is not None
    return parsed


def _minute() -> Any:
    from datetime import timedelta

    return timedelta(minutes=1)
