"""Uploads: the signed form a client sends media bytes with, straight to object storage, and
the checks an upload passes when a post or an avatar uses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from media.accepted import IMAGE_CONTENT_TYPES, VIDEO_CONTENT_TYPES, max_bytes_for
from media.image import ImageRejected, sniff_content_type
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError
from resolvers.ids import typed_id_argument
from resolvers.viewer import require_viewer
from storage.mongo import whole_milliseconds
from storage.objects import PresignedPost
from storage.upload import UploadRecord, UploadState

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


async def usable_uploads(
    context: Context, raw_ids: list[str], field_name: str
) -> list[UploadRecord] | FieldError:
    """The viewer's unused, unexpired image uploads named by `raw_ids`, in order; or the
    first problem, naming `field_name`. Their bytes are not read here (`arrived_bytes`)."""
    viewer = context.viewer
    assert viewer is not None
    ids = []
    for raw in raw_ids:
        upload_id = typed_id_argument(raw, "Upload", field_name)
        if isinstance(upload_id, FieldError):
            return upload_id
        ids.append(upload_id)
    if len(set(ids)) != len(ids):
        return FieldError(ErrorCode.INVALID, field_name, "The same upload is listed twice.")
    records = await context.services.stores.uploads.find_by_ids(ids)
    now = context.services.clock()
    usable: list[UploadRecord] = []
    for position, upload_id in enumerate(ids, start=1):
        record = records.get(upload_id)
        if record is None or record.owner_id != viewer.id:
            return FieldError(
                ErrorCode.NOT_FOUND, field_name, f"Upload {position}: no such upload."
            )
        if record.state is UploadState.USED:
            return FieldError(ErrorCode.INVALID, field_name, f"Upload {position} was already used.")
        if record.expires_at <= now:
            return FieldError(ErrorCode.INVALID, field_name, f"Upload {position} has expired.")
        if record.content_type not in IMAGE_CONTENT_TYPES:
            return FieldError(ErrorCode.INVALID, field_name, f"Upload {position} is not an image.")
        usable.append(record)
    return usable


async def arrived_bytes(
    context: Context, record: UploadRecord, position: int, field_name: str
) -> bytes | FieldError:
    """What arrived for the upload (never more than it declared), if it is what it declared;
    else the problem, naming the upload by its `position` in `field_name`."""
    data = await context.services.objects.read(record.key, max_bytes=record.byte_size)
    problem = _arrival_problem(record, data)
    if problem is not None:
        return FieldError(ErrorCode.INVALID, field_name, f"Upload {position}: {problem}")
    assert data is not None
    return data


def _arrival_problem(record: UploadRecord, data: bytes | None) -> str | None:
    if data is None:
        return "nothing was uploaded."
    if len(data) != record.byte_size:
        return f"{len(data):,} bytes arrived, {record.byte_size:,} were declared."
    try:
        actual = sniff_content_type(data)
    except ImageRejected as error:
        return str(error)
    if actual != record.content_type:
        return f"the file is {actual or 'not an image we accept'}, not {record.content_type}."
    return None
