"""Stories driven through the schema against the app's services, with a clock the test moves
and the fan-out jobs run when the test says (`StoryWorld.drain`)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from app.services import Runtime
from jobs.worker import run_job
from resolvers.context import Context, Services
from resolvers.ids import parse_typed_id, to_global_id
from resolvers.upload import UPLOAD_LIFETIME
from schema import build_schema
from storage.ids import random_id
from storage.upload import UploadRecord, UploadState, new_upload_key
from storage.user import UserRecord
from tests.conftest import insert_user
from tests.contract import operation_source
from tests.media import jpeg

SCHEMA = build_schema(mask_errors=False)
PHOTO = jpeg(360, 640)
FOLLOW = "mutation ($id: ID!) { followUser(userId: $id) { state errors { code } } }"
UNFOLLOW = "mutation ($id: ID!) { unfollowUser(userId: $id) { state errors { code } } }"
APPROVE = """mutation ($id: ID!) { respondToFollowRequest(userId: $id, approve: true) {
  errors { code } } }"""
BLOCK = "mutation ($id: ID!) { blockUser(userId: $id) { ok } }"
STORY_NODE = "query ($id: ID!) { node(id: $id) { id ... on Story { expiresAt viewerHasSeen } } }"
WORKER = "story-tests"


class Clock:
    """What `Services.clock` returns in these tests: the real time moved by `offset`, or a
    moment it stands still at (`stop_at`)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.stopped: datetime | None = None

    def __call__(self) -> datetime:
        return self.stopped or datetime.now(UTC) + self.offset

    def stop_at(self, moment: datetime) -> None:
        self.stopped = moment


@dataclasses.dataclass
class StoryWorld:
    runtime: Runtime
    clock: Clock

    @property
    def services(self) -> Services:
        return dataclasses.replace(self.runtime.services, clock=self.clock)

    async def user(self, *, private: bool = False) -> UserRecord:
        user = await insert_user(self.services)
        if private:
            updated = await self.services.stores.users.update_profile(user.id, {"is_private": True})
            assert updated is not None
            return updated
        return user

    async def execute(self, document: str, viewer: UserRecord | None, **variables: Any) -> Any:
        """The whole result (data and errors), with fresh loaders as a new request has."""
        context = Context.for_viewer(self.services, viewer)
        return await SCHEMA.execute(document, variable_values=variables, context_value=context)

    async def data(self, document: str, viewer: UserRecord | None, **variables: Any) -> Any:
        result = await self.execute(document, viewer, **variables)
        assert result.errors is None, result.errors
        data = result.data
        assert data is not None
        return next(iter(data.values())) if len(data) == 1 else data

    async def operation(self, name: str, viewer: UserRecord | None, **variables: Any) -> Any:
        return await self.data(operation_source(name), viewer, **variables)

    async def follow(self, follower: UserRecord, followee: UserRecord) -> None:
        await self.data(FOLLOW, follower, id=gid(followee))
        if followee.is_private:
            payload = await self.data(APPROVE, followee, id=gid(follower))
            assert payload["errors"] == []

    async def upload(
        self, owner: UserRecord, data: bytes = PHOTO, content_type: str = "image/jpeg"
    ) -> str:
        """An upload whose bytes arrived, as the upload form leaves it; its global id."""
        services = self.services
        record = UploadRecord(
            id=random_id(),
            owner_id=owner.id,
            key=new_upload_key(owner.id),
            content_type=content_type,
            byte_size=len(data),
            expires_at=services.clock() + UPLOAD_LIFETIME,
            state=UploadState.PENDING,
        )
        assert await services.stores.uploads.insert(record)
        await services.objects.write(record.key, data, content_type=content_type)
        return to_global_id("Upload", record.id)

    async def create_story(self, author: UserRecord, upload_id: str | None = None) -> Any:
        upload_id = upload_id or await self.upload(author)
        return await self.operation("CreateStory", author, uploadId=upload_id)

    async def story(self, author: UserRecord) -> str:
        payload = await self.create_story(author)
        assert payload["errors"] == [], payload["errors"]
        story_id: str = payload["story"]["id"]
        return story_id

    async def tray(self, viewer: UserRecord) -> list[Any]:
        entries: list[Any] = await self.operation("StoryTray", viewer)
        return entries

    async def tray_users(self, viewer: UserRecord) -> list[str]:
        return [entry["user"]["id"] for entry in await self.tray(viewer)]

    async def seen(self, viewer: UserRecord, story_id: str) -> Any:
        return await self.operation("MarkStorySeen", viewer, storyId=story_id)

    async def drain(self) -> int:
        """Run every fan-out job queued so far, as the worker would; how many ran."""
        queue, done = self.runtime.services.stores.fanout, 0
        await queue.ensure_group()
        while deliveries := await queue.read(WORKER, count=100, block_ms=1):
            for delivery in deliveries:
                await run_job(self.runtime.jobs, delivery.job())
                await queue.ack(delivery.entry_id)
                done += 1
        return done


def gid(user: UserRecord) -> str:
    return to_global_id("User", user.id)


def story_record_id(story_id: str) -> int:
    record_id = parse_typed_id(story_id, "Story")
    assert record_id is not None
    return record_id
