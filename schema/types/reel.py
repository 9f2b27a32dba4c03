"""Reels: the type, its video, the payloads and the input."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.ids import to_global_id
from resolvers.media import media_url
from resolvers.post import PostResult
from resolvers.reel import RecordViewResult
from schema.types.common import Info, Node, UserError
from schema.types.post import PostEngagement
from storage.post import PostRecord
from storage.video import VideoStatus

if TYPE_CHECKING:
    from schema.types.comment import Comment
    from schema.types.user import User

CommentType = Annotated["Comment", strawberry.lazy("schema.types.comment")]
UserType = Annotated["User", strawberry.lazy("schema.types.user")]


@strawberry.type(description="A video's one rendition: H.264/AAC MP4, at most 720x1280.")
class Video:
    url: str = strawberry.field(description="The CDN URL of the MP4. Immutable: cache it.")
    duration_seconds: float
    width: int = strawberry.field(description="As shown (upright), in pixels.")
    height: int


@strawberry.type(
    name="Reel",
    description="A short video (up to 90 s). Liked, commented on and subscribed to with the "
    "post operations, which take its id.",
)
class Reel(Node, PostEngagement):
    record: strawberry.Private[PostRecord]
    caption: str
    created_at: datetime
    like_count: int
    comment_count: int = strawberry.field(description="Comments and replies.")
    view_count: int = strawberry.field(description="Distinct accounts that watched it.")
    hashtags: list[str] = strawberry.field(
        description="Hashtags in the caption, lowercased, without '#'."
    )
    status: VideoStatus
    failure_reason: str | None = strawberry.field(
        description="Why processing FAILED (only its author ever sees a failed reel)."
    )

    @strawberry.field(description="Null until the reel is READY.")
    def video(self, info: Info) -> Video | None:
        record, media = self.record, self.record.media[0]
        if record.video is None or record.video.status is not VideoStatus.READY:
            return None
        rendition = media.renditions[0]
        return Video(
            url=media_url(info.context, rendition.key),
            duration_seconds=record.video.duration_seconds,
            width=rendition.width,
            height=rendition.height,
        )

    @strawberry.field(description="The first frame, as a JPEG: there from the start.")
    def poster_url(self, info: Info) -> str | None:
        key = self.record.media[0].poster_key
        return None if key is None else media_url(info.context, key)

    @classmethod
    def wrap(cls, record: PostRecord) -> Reel:
        assert record.video is not None, "only a post with a video is a reel"
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("Reel", record.id)),
            caption=record.caption,
            created_at=record.created_at,
            like_count=record.like_count,
            comment_count=record.comment_count,
            view_count=record.view_count,
            hashtags=list(record.hashtags),
            status=record.video.status,
            failure_reason=record.video.failure,
        )

    @classmethod
    def wrap_optional(cls, record: PostRecord | None) -> Reel | None:
        return None if record is None or record.video is None else cls.wrap(record)


@strawberry.type
class ReelPayload:
    reel: Reel | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: PostResult) -> ReelPayload:
        return cls(
            reel=Reel.wrap_optional(result.post), errors=UserError.from_errors(result.errors)
        )


@strawberry.type
class RecordReelViewPayload:
    ok: bool
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: RecordViewResult) -> RecordReelViewPayload:
        return cls(ok=result.ok, errors=UserError.from_errors(result.errors))


@strawberry.input
class CreateReelInput:
    upload_id: strawberry.ID = strawberry.field(description="An MP4 upload, up to 90 s.")
    caption: str | None = None
    client_mutation_id: str | None = strawberry.field(
        default=None, description="A retried call with the same value returns the first reel."
    )
