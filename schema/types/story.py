"""Stories: the type, the tray's entries, the payload and the input."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers import story as story_resolvers
from resolvers.ids import to_global_id
from resolvers.pagination import DEFAULT_PAGE_SIZE
from resolvers.story import StoryResult, TrayEntry
from schema.eager import eager
from schema.types.common import Connection, Info, Node, UserError, to_connection
from schema.types.media import Media
from schema.types.user import User
from storage.story import StoryRecord
from storage.video import VideoStatus


@strawberry.type(
    name="Story",
    description="A photo or a video shown for 24 hours to those who may see its author's content; "
    "gone from every read (null through `node`) from the second it expires.",
)
class Story(Node):
    record: strawberry.Private[StoryRecord]
    created_at: datetime
    expires_at: datetime
    media: Media = strawberry.field(description="A photo, or a video (type VIDEO).")
    status: VideoStatus = strawberry.field(
        description="A video story's processing (others see it once READY); READY for a photo."
    )
    failure_reason: str | None = strawberry.field(
        description="Why a video story's processing FAILED (seen by its author only)."
    )

    @strawberry.field(description="Whether the viewer has seen it (always, for its author).")
    @eager
    async def viewer_has_seen(self, info: Info) -> bool:
        return await story_resolvers.viewer_has_seen(info.context, self.record)

    @strawberry.field(
        description="How many accounts have seen it: its author only (FORBIDDEN otherwise)."
    )
    def viewer_count(self, info: Info) -> int | None:
        return story_resolvers.viewer_count(info.context, self.record)

    @strawberry.field(
        description="Who has seen it, newest first: its author only (FORBIDDEN otherwise)."
    )
    async def viewers(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[User] | None:
        page = await story_resolvers.story_viewers(info.context, self.record, first, after)
        return to_connection(page, User.wrap)

    @classmethod
    def wrap(cls, record: StoryRecord) -> Story:
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("Story", record.id)),
            created_at=record.created_at,
            expires_at=record.expires_at,
            media=Media.wrap(record.media),
            status=VideoStatus.READY if record.video is None else record.video.status,
            failure_reason=None if record.video is None else record.video.failure,
        )

    @classmethod
    def wrap_optional(cls, record: StoryRecord | None) -> Story | None:
        return None if record is None else cls.wrap(record)


@strawberry.type(description="An account in the story tray, with its live stories.")
class StoryTrayEntry:
    user: User
    has_unseen: bool = strawberry.field(description="Whether any of its stories is unseen.")
    stories: list[Story] = strawberry.field(description="Oldest first, as they play.")

    @classmethod
    def wrap(cls, entry: TrayEntry) -> StoryTrayEntry:
        return cls(
            user=User.wrap(entry.user),
            has_unseen=entry.has_unseen,
            stories=[Story.wrap(story) for story in entry.stories],
        )


@strawberry.type
class StoryPayload:
    story: Story | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: StoryResult) -> StoryPayload:
        return cls(
            story=Story.wrap_optional(result.story), errors=UserError.from_errors(result.errors)
        )


@strawberry.input
class CreateStoryInput:
    upload_id: strawberry.ID = strawberry.field(
        description="A photo upload, or an MP4 of up to 60 s."
    )
