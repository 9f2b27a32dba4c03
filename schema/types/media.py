"""Media of a post: a photo or video with its renditions on the CDN."""

from __future__ import annotations

from enum import StrEnum

import strawberry

from resolvers.ids import to_global_id
from resolvers.media import media_url
from schema.types.common import Info
from storage.post import MediaRecord
from storage.video import VideoStatus

# Registered for GraphQL; annotations use the storage enum itself (reels, video stories).
strawberry.enum(
    VideoStatus,
    name="VideoStatus",
    description="A video's processing: PROCESSING until its transcode is done, then READY "
    "(shown to others) or FAILED (with the reason; shown to its author only).",
)


@strawberry.enum
class MediaType(StrEnum):
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"


@strawberry.type
class Media:
    record: strawberry.Private[MediaRecord]
    id: strawberry.ID
    type: MediaType
    width: int = strawberry.field(description="Width of the largest rendition, in pixels.")
    height: int = strawberry.field(description="Height of the largest rendition, in pixels.")

    @strawberry.field(
        description="The CDN URL of the smallest rendition at least `width` pixels wide "
        "(the largest when omitted); of a VIDEO, its MP4, or its poster until it is "
        "processed. Immutable: cache it forever."
    )
    def url(self, info: Info, width: int | None = None) -> str:
        renditions = self.record.renditions  # widest first
        if not renditions:  # a video being processed: only its author sees it meanwhile
            assert self.record.poster_key is not None, "a media with nothing to show"
            return media_url(info.context, self.record.poster_key)
        chosen = renditions[0]
        if width is not None:
            wide_enough = [r for r in renditions if r.width >= width]
            chosen = wide_enough[-1] if wide_enough else renditions[0]
        return media_url(info.context, chosen.key)

    @strawberry.field(description="A VIDEO's first frame, as a JPEG; null for an IMAGE.")
    def poster_url(self, info: Info) -> str | None:
        key = self.record.poster_key
        return None if key is None else media_url(info.context, key)

    @classmethod
    def wrap(cls, record: MediaRecord) -> Media:
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("Media", record.id)),
            type=MediaType(record.type),
            width=record.width,
            height=record.height,
        )
