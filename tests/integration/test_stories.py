"""Stories: creating them from photo uploads, who sees them, the tray and its order, seen
state, the author's list of viewers, and expiry at the second. Against a real redis-server
(a database of its own, whose fan-out jobs these tests run themselves) with a clock they
move."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.services import open_runtime
from resolvers.ids import parse_typed_id
from storage.story import STORY_LIFETIME, tray_key
from storage.upload import UploadState
from tests.conftest import make_settings
from tests.stories import (
    BLOCK,
    STORY_NODE,
    UNFOLLOW,
    Clock,
    StoryWorld,
    gid,
    story_record_id,
)

STORIES_REDIS_DATABASE = 3  # no test server's fan-out worker reads this database's jobs
# Authors with more followers are not fanned out: small enough to make one in a test.
FANOUT_MAX_FOLLOWERS = 3
PROFILE = "query ($username: String!) { user(username: $username) { id } }"
VIEWERS = """query ($id: ID!) { node(id: $id) { ... on Story {
  viewerCount viewers(first: 10) { edges { node { id } } } } } }"""


@pytest.fixture
async def world(redis_url: str, tmp_path: Path) -> AsyncIterator[StoryWorld]:
    own = f"{redis_url.rsplit('/', 1)[0]}/{STORIES_REDIS_DATABASE}"
    settings = make_settings(
        own, media_dir=str(tmp_path / "media"), fanout_max_followers=FANOUT_MAX_FOLLOWERS
    )
    async with open_runtime(settings) as runtime:
        await runtime.services.redis.flushdb()
        yield StoryWorld(runtime, Clock())


def media_objects(world: StoryWorld) -> list[Path]:
    local = world.runtime.local_storage
    assert local is not None
    return [path for path in (local.root / "media").rglob("*") if path.is_file()]


async def test_a_photo_becomes_a_story_that_lives_24_hours(world: StoryWorld) -> None:
    author = await world.user()

    payload = await world.create_story(author)

    assert payload["errors"] == []
    story = payload["story"]
    assert story["media"]["type"] == "IMAGE" and story["media"]["url"].startswith("http")
    assert (story["media"]["width"], story["media"]["height"]) == (360, 640)
    created = world.clock().fromisoformat(story["createdAt"])
    assert world.clock().fromisoformat(story["expiresAt"]) - created == STORY_LIFETIME


async def test_another_users_upload_is_refused_naming_upload_id(world: StoryWorld) -> None:
    author, owner = await world.user(), await world.user()
    upload_id = await world.upload(owner)

    payload = await world.create_story(author, upload_id)

    assert payload["story"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "uploadId")]
    assert await world.tray(author) == []


async def test_an_mp4_that_is_no_video_is_refused_naming_upload_id(world: StoryWorld) -> None:
    """Video stories are built (tests/integration/test_video_stories.py); an MP4 header
    with nothing behind it is refused as no video, and the upload stays usable."""
    author = await world.user()
    upload_id = await world.upload(author, b"\x00\x00\x00\x18ftypmp42" + bytes(64), "video/mp4")

    payload = await world.create_story(author, upload_id)

    assert payload["story"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("INVALID", "uploadId")
    assert error["message"] == "The file is not an MP4 video that can be read."
    upload = await world.services.stores.uploads.find_by_ids([_upload_id(upload_id)])
    assert upload[_upload_id(upload_id)].state is UploadState.PENDING


async def test_an_upload_that_is_no_image_leaves_no_story_and_no_media(world: StoryWorld) -> None:
    author = await world.user()
    upload_id = await world.upload(author, b"not a jpeg at all", "image/jpeg")

    payload = await world.create_story(author, upload_id)

    assert [e["field"] for e in payload["errors"]] == ["uploadId"]
    assert await world.tray(author) == []
    assert media_objects(world) == []
    upload = await world.services.stores.uploads.find_by_ids([_upload_id(upload_id)])
    assert upload[_upload_id(upload_id)].state is UploadState.PENDING


async def test_a_follower_sees_the_story_in_the_tray_and_by_id(world: StoryWorld) -> None:
    author, follower = await world.user(), await world.user()
    await world.follow(follower, author)
    story_id = await world.story(author)

    [entry] = await world.tray(follower)

    assert entry["user"]["id"] == gid(author) and entry["hasUnseen"] is True
    assert [story["id"] for story in entry["stories"]] == [story_id]
    assert (await world.data(STORY_NODE, follower, id=story_id))["id"] == story_id


async def test_a_new_story_reaches_a_built_tray_by_fan_out(world: StoryWorld) -> None:
    author, follower = await world.user(), await world.user()
    await world.follow(follower, author)
    await world.drain()  # the follow's own job (its notification)
    assert await world.tray(follower) == []  # read once: the tray is built, and trusted

    story_id = await world.story(author)
    assert await world.drain() == 1  # the story's push

    redis = world.services.redis
    assert await redis.zscore(tray_key(follower.id), str(author.id)) is not None
    [entry] = await world.tray(follower)
    assert [story["id"] for story in entry["stories"]] == [story_id]


async def test_a_large_accounts_story_is_merged_into_the_tray_at_read_time(
    world: StoryWorld,
) -> None:
    star = await world.user()
    fans = [await world.user() for _ in range(FANOUT_MAX_FOLLOWERS + 1)]
    for fan in fans:
        await world.follow(fan, star)
        assert await world.tray(fan) == []  # built: only fan-out or the merge can add to it

    story_id = await world.story(star)
    await world.drain()

    for fan in fans:
        assert await world.services.redis.zscore(tray_key(fan.id), str(star.id)) is None
        [entry] = await world.tray(fan)
        assert [story["id"] for story in entry["stories"]] == [story_id]


async def test_the_viewers_own_story_leads_the_tray(world: StoryWorld) -> None:
    viewer, author = await world.user(), await world.user()
    await world.follow(viewer, author)
    await world.story(author)
    own = await world.story(viewer)

    [first, second] = await world.tray(viewer)

    assert (first["user"]["id"], first["hasUnseen"]) == (gid(viewer), False)
    assert [story["id"] for story in first["stories"]] == [own]
    assert second["user"]["id"] == gid(author)


async def test_a_non_follower_of_a_private_account_does_not_see_its_story(
    world: StoryWorld,
) -> None:
    owner, asker = await world.user(private=True), await world.user()
    await world.data(
        "mutation ($id: ID!) { followUser(userId: $id) { state } }", asker, id=gid(owner)
    )  # a request, never approved
    story_id = await world.story(owner)
    await world.drain()

    assert await world.tray(asker) == []
    assert await world.data(STORY_NODE, asker, id=story_id) is None
    payload = await world.seen(asker, story_id)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "storyId")]


async def test_an_approved_follower_of_a_private_account_sees_its_story(world: StoryWorld) -> None:
    owner, follower = await world.user(private=True), await world.user()
    await world.follow(follower, owner)
    story_id = await world.story(owner)

    assert (await world.data(STORY_NODE, follower, id=story_id))["id"] == story_id
    assert await world.tray_users(follower) == [gid(owner)]


@pytest.mark.parametrize("blocker", ["author", "viewer"])
async def test_a_block_either_way_hides_the_story(world: StoryWorld, blocker: str) -> None:
    author, viewer = await world.user(), await world.user()
    await world.follow(viewer, author)
    story_id = await world.story(author)
    await world.drain()
    assert await world.tray_users(viewer) == [gid(author)]

    if blocker == "author":
        await world.data(BLOCK, author, id=gid(viewer))
    else:
        await world.data(BLOCK, viewer, id=gid(author))

    assert await world.tray(viewer) == []
    assert await world.data(STORY_NODE, viewer, id=story_id) is None
    assert await world.services.redis.zscore(tray_key(viewer.id), str(author.id)) is None


async def test_unfollowing_takes_the_author_out_of_the_tray(world: StoryWorld) -> None:
    author, viewer = await world.user(), await world.user()
    await world.follow(viewer, author)
    await world.story(author)
    await world.drain()
    assert await world.tray_users(viewer) == [gid(author)]

    await world.data(UNFOLLOW, viewer, id=gid(author))

    assert await world.tray(viewer) == []
    assert await world.services.redis.zscore(tray_key(viewer.id), str(author.id)) is None


async def test_following_brings_a_live_story_into_a_built_tray(world: StoryWorld) -> None:
    author, viewer = await world.user(), await world.user()
    await world.story(author)
    assert await world.tray(viewer) == []  # built, before the follow

    await world.follow(viewer, author)

    assert await world.tray_users(viewer) == [gid(author)]


async def test_accounts_with_unseen_stories_come_first_the_closest_first(
    world: StoryWorld,
) -> None:
    viewer = await world.user()
    first, second, third = [await world.user() for _ in range(3)]
    for author in (first, second, third):  # followed in this order: the latest is closest
        await world.follow(viewer, author)
    # Shared in another order than the follows: closeness, not recency, orders the groups.
    await world.story(third)
    await world.story(first)
    seen_story = await world.story(second)

    await world.seen(viewer, seen_story)

    tray = await world.tray(viewer)
    assert [entry["user"]["id"] for entry in tray] == [gid(third), gid(first), gid(second)]
    assert [entry["hasUnseen"] for entry in tray] == [True, True, False]


async def test_an_author_the_viewer_interacts_with_comes_first_within_its_group(
    world: StoryWorld,
) -> None:
    """Given three followed authors with unseen stories, the latest followed closest by
    follow recency, when the viewer opens the profile of the first followed (an
    interaction the affinity counters keep), that author comes first; the others keep
    their follow-recency order."""
    viewer = await world.user()
    first, second, third = [await world.user() for _ in range(3)]
    for author in (first, second, third):
        await world.follow(viewer, author)
        await world.story(author)

    await world.data(PROFILE, viewer, username=first.username)
    await world.runtime.services.interactions.flush()

    assert await world.tray_users(viewer) == [gid(first), gid(third), gid(second)]


async def test_has_unseen_flips_once_every_story_is_seen(world: StoryWorld) -> None:
    author, viewer = await world.user(), await world.user()
    await world.follow(viewer, author)
    stories = [await world.story(author) for _ in range(2)]

    await world.seen(viewer, stories[0])
    [entry] = await world.tray(viewer)
    assert entry["hasUnseen"] is True
    assert [story["viewerHasSeen"] for story in entry["stories"]] == [True, False]

    payload = await world.seen(viewer, stories[1])
    assert payload["story"] == {"id": stories[1], "viewerHasSeen": True}
    [entry] = await world.tray(viewer)
    assert entry["hasUnseen"] is False


async def test_marking_a_story_seen_twice_counts_one_view(world: StoryWorld) -> None:
    author, viewer = await world.user(), await world.user()
    await world.follow(viewer, author)
    story_id = await world.story(author)

    for _ in range(2):
        assert (await world.seen(viewer, story_id))["errors"] == []

    story = await world.data(VIEWERS, author, id=story_id)
    assert story["viewerCount"] == 1
    assert [edge["node"]["id"] for edge in story["viewers"]["edges"]] == [gid(viewer)]


async def test_viewers_are_listed_newest_first(world: StoryWorld) -> None:
    author = await world.user()
    fans = [await world.user() for _ in range(3)]
    story_id = await world.story(author)
    for fan in fans:
        await world.follow(fan, author)
        await world.seen(fan, story_id)

    page = await world.operation("StoryViewers", author, storyId=story_id)

    assert page["viewerCount"] == 3
    assert [edge["node"]["id"] for edge in page["viewers"]["edges"]] == [
        gid(fan) for fan in reversed(fans)
    ]


async def test_only_the_author_may_list_a_storys_viewers(world: StoryWorld) -> None:
    author, fan = await world.user(), await world.user()
    await world.follow(fan, author)
    story_id = await world.story(author)
    await world.seen(fan, story_id)

    result = await world.execute(VIEWERS, fan, id=story_id)

    assert result.data == {"node": {"viewerCount": None, "viewers": None}}
    assert result.errors is not None
    assert {error.extensions["code"] for error in result.errors} == {"FORBIDDEN"}


async def test_an_expired_story_vanishes_from_every_read_at_the_second(
    world: StoryWorld,
) -> None:
    author, fan = await world.user(), await world.user()
    await world.follow(fan, author)
    story_id = await world.story(author)
    await world.seen(fan, story_id)
    await world.drain()
    record_id = story_record_id(story_id)
    expires_at = (await world.services.stores.stories.find_by_ids([record_id]))[
        record_id
    ].expires_at

    world.clock.stop_at(expires_at - timedelta(milliseconds=1))
    assert await world.tray_users(fan) == [gid(author)]
    assert (await world.data(STORY_NODE, fan, id=story_id))["id"] == story_id

    world.clock.stop_at(expires_at)
    assert await world.tray(fan) == []
    assert await world.tray(author) == []
    assert await world.data(STORY_NODE, fan, id=story_id) is None
    assert await world.data(VIEWERS, author, id=story_id) is None
    payload = await world.seen(fan, story_id)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "storyId")]


async def test_an_expired_story_leaves_nothing_in_redis(world: StoryWorld) -> None:
    author, reader, absent = await world.user(), await world.user(), await world.user()
    for follower in (reader, absent):
        await world.follow(follower, author)
    # A story made 24 hours less a second ago: it expires, in Redis's time too, in a second.
    world.clock.offset = -(STORY_LIFETIME - timedelta(seconds=1))
    await world.tray(reader)  # the reader's tray is built; the absent one's never is
    await world.story(author)
    await world.drain()
    redis, keys = world.services.redis, [tray_key(f.id) for f in (reader, absent)]
    assert await redis.exists(*keys) == 2

    world.clock.offset = timedelta(0)
    for _ in range(100):
        if not await redis.exists(*keys):
            break
        await asyncio.sleep(0.05)

    assert await redis.exists(*keys) == 0
    assert await world.tray(reader) == []


async def test_expired_stories_and_their_views_are_removed_by_ttl_indexes(
    world: StoryWorld,
) -> None:
    database = world.runtime.database

    stories = await database["stories"].index_information()
    views = await database["story_views"].index_information()

    for indexes in (stories, views):
        ttl = [index for index in indexes.values() if "expireAfterSeconds" in index]
        assert [(list(index["key"]), index["expireAfterSeconds"]) for index in ttl] == [
            ([("expires_at", 1)], 0)
        ]


def _upload_id(upload_id: str) -> int:
    record_id = parse_typed_id(upload_id, "Upload")
    assert record_id is not None
    return record_id
