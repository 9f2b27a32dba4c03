"""Video stories: an MP4 of up to 60 s becomes a story as PROCESSING (its author sees it, its
poster as its media's url), joins the followers' trays once the video job made it READY,
and a FAILED one stays its author's alone, with the reason. Against a real redis-server (a
database of its own, whose jobs these tests run themselves)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.services import open_runtime
from media import video as media_video
from tests.conftest import make_settings
from tests.reels import CLIP, STORY_NODE
from tests.stories import Clock, StoryWorld
from tests.videos import mp4

VIDEO_STORIES_REDIS_DATABASE = 6  # no test server's worker reads this database's jobs


@pytest.fixture
async def world(redis_url: str, tmp_path: Path) -> AsyncIterator[StoryWorld]:
    own = f"{redis_url.rsplit('/', 1)[0]}/{VIDEO_STORIES_REDIS_DATABASE}"
    async with open_runtime(make_settings(own, media_dir=str(tmp_path / "media"))) as runtime:
        await runtime.services.redis.flushdb()
        yield StoryWorld(runtime, Clock())


async def test_a_video_story_is_processing_for_its_author_and_absent_from_trays(
    world: StoryWorld,
) -> None:
    author, follower = await world.user(), await world.user()
    await world.follow(follower, author)

    payload = await world.create_story(author, await world.upload(author, CLIP, "video/mp4"))

    story = payload["story"]
    assert payload["errors"] == []
    assert story["media"]["type"] == "VIDEO"
    assert story["media"]["url"].endswith(".jpg")  # the poster, until the video is ready
    shown = await world.data(STORY_NODE, author, id=story["id"])
    assert shown["status"] == "PROCESSING"
    assert await world.data(STORY_NODE, follower, id=story["id"]) is None


async def test_once_ready_a_video_story_plays_its_mp4_in_the_followers_tray(
    world: StoryWorld,
) -> None:
    author, follower = await world.user(), await world.user()
    await world.follow(follower, author)
    payload = await world.create_story(author, await world.upload(author, CLIP, "video/mp4"))
    before_job = await world.tray(follower)

    await world.drain()

    [entry] = await world.tray(follower)
    [story] = entry["stories"]
    assert before_job == []
    assert story["id"] == payload["story"]["id"]
    assert (story["media"]["type"], story["media"]["width"]) == ("VIDEO", 320)
    assert story["media"]["url"].endswith(".mp4")
    shown = await world.data(STORY_NODE, follower, id=story["id"])
    assert shown["status"] == "READY" and shown["media"]["posterUrl"].endswith(".jpg")


async def test_a_story_video_over_60_seconds_is_refused_naming_the_upload(
    world: StoryWorld,
) -> None:
    author = await world.user()
    long_clip = mp4(seconds=61, width=32, height=32, fps=1, audio=False)

    payload = await world.create_story(author, await world.upload(author, long_clip, "video/mp4"))

    assert payload["story"] is None
    [error] = payload["errors"]
    assert (error["field"], error["message"]) == (
        "uploadId",
        "The video is 61.0 s long: at most 60 s.",
    )
    assert await world.drain() == 0


async def test_a_failed_video_story_is_its_authors_alone_with_the_reason(
    world: StoryWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    author, follower = await world.user(), await world.user()
    await world.follow(follower, author)
    payload = await world.create_story(author, await world.upload(author, CLIP, "video/mp4"))
    monkeypatch.setattr(media_video, "MAX_TRANSCODE_SECONDS", -1.0)

    await world.drain()

    failed = await world.data(STORY_NODE, author, id=payload["story"]["id"])
    assert (failed["status"], failed["failureReason"]) == (
        "FAILED",
        "The video took too long to process.",
    )
    assert await world.data(STORY_NODE, follower, id=payload["story"]["id"]) is None
    assert await world.tray(follower) == []
