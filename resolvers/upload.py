"""Uploads: the signed form a client sends media bytes with, straight to object storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError
from resolvers.images import IMAGE_FORMATS
from resolvers.viewer import require_viewer
from storage.mongo import whole_milliseconds
from storage.objects import PresignedPost
from storage.upload import UploadRecord, UploadState

IMAGE_CONTENT_TYPES = frozenset(IMAGE_FORMATS.values())
VIDEO_CONTENT_TYPES = frozenset({"video/mp4"})
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # a 50-megapixel JPEG at high quality
MAX_VIDEO_BYTES = 100 * 1024 * 1024  # a 90-second 1080p reel
MAX_UPLOAD_BYTES = max(MAX_IMAGE_BYTES, MAX_VIDEO_BYTES)
FORM_LIFETIME = timedelta(minutes=15)  # to start sending the bytes
UPLOAD_LIFETIME = timedelta(hours=1)  # to use them in a post, story, reel or avatar


@dataclass(frozen=True, slots=True)
class CreatedUpload:
    record: UploadRecord
    form: PresignedPost


@dataclass(frozen=True, slots=True)
class UploadResult:
    upload: CreatedUpload | None = None
    errors: list[FieldError] = field(default_factory=list)


def max_bytes_for(content_type: str) -> int | None:
    if content_type in IMAGE_CONTENT_TYPES:
        return MAX_IMAGE_BYTES
    if content_type in VIDEO_CONTENT_TYPES:
        return MAX_VIDEO_BYTES
    return None


async def create_upload(context: Context, content_type: str, byte_size: int) -> UploadResult:
    viewer = require_viewer(context)
    content_type = content_type.strip().lower()
    max_bytes = max_bytes_for(content_type)
    if max_bytes is None:
        allowed = ", ".join(sorted(IMAGE_CONTENT_TYPES | VIDEO_CONTENT_TYPES))
        return UploadResult(
            errors=[FieldError(ErrorCode.INVALID, "contentType", f"Upload one of: {allowed}.")]
        )
    if not 0 < byte_size <= max_bytes:
        return UploadResult(
            errors=[
                FieldError(
                    ErrorCode.INVALID,
                    "byteSize",
                    f"A {content_type} upload takes 1 to {max_bytes:,} bytes.",
                )
            ]
        )
    services = context.services
    upload_id = services.ids.next_id()
    now = services.clock()
    record = UploadRecord(
        id=upload_id,
        owner_id=viewer.id,
        key=f"uploads/{viewer.id}/{upload_id}",  # under the viewer's own prefix
        content_type=content_type,
        byte_size=byte_size,
        expires_at=whole_milliseconds(now + UPLOAD_LIFETIME),
        state=UploadState.PENDING,
    )
    await services.stores.uploads.insert(record)
    # The form allows exactly the declared size: more or less is refused by storage, and
    # checked again on use (not every S3-compatible server enforces form conditions).
    form = await services.objects.presign_upload(
        record.key,
        content_type=content_type,
        max_bytes=byte_size,
        expires_in=int(FORM_LIFETIME.total_seconds()),
    )
    return UploadResult(upload=CreatedUpload(record, form))
