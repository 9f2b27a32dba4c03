"""Uploads: the signed form a client sends media bytes with, straight to object storage, and
the checks an upload passes when a post or an avatar uses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from media.accepted import IMAGE_CONTENT_TYPES, VIDEO_CONTENT_TYPES, max_bytes_for
from media.image import ImageHeader, ImageRejected, read_header
from resolvers.context import Context, Services
from resolvers.errors import ErrorCode, FieldError
from resolvers.ids import typed_id_argument
from resolvers.viewer import require_viewer
from storage.ids import random_id
from storage.mongo import whole_milliseconds
from storage.objects import PresignedPost, SignedForm
from storage.upload import UploadRecord, UploadState, new_upload_key, upload_key_owner

FORM_LIFETIME = timedelta(minutes=15)  # to start sending the bytes
UPLOAD_LIFETIME = timedelta(hours=1)  # to use them in a post, story, reel or avatar
# Random ids and keys collide once in ~2^63 draws; a second try is for that once.
INSERT_ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class CreatedUpload:
    record: UploadRecord
    form: PresignedPost


@dataclass(frozen=True, slots=True)
class ArrivedImage:
    """An upload's bytes, checked against its declaration, and what their header says."""

    data: bytes
    header: ImageHeader


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
    record = await _inserted_record(services, viewer.id, content_type, byte_size)
    # The form allows exactly the declared size: more or less is refused by storage, and
    # checked again on use (not every S3-compatible server enforces form conditions).
    form = await services.objects.presign_upload(
        record.key,
        content_type=content_type,
        max_bytes=byte_size,
        expires_in=int(FORM_LIFETIME.total_seconds()),
    )
    return UploadResult(upload=CreatedUpload(record, form))


async def _inserted_record(
    services: Services, owner_id: int, content_type: str, byte_size: int
) -> UploadRecord:
    """A new pending upload, stored, with a random id and a random key under the owner's
    prefix: neither can be guessed from another upload, a post or the time."""
    expires_at = whole_milliseconds(services.clock() + UPLOAD_LIFETIME)
    for _ in range(INSERT_ATTEMPTS):
        record = UploadRecord(
            id=random_id(),
            owner_id=owner_id,
            key=new_upload_key(owner_id),
            content_type=content_type,
            byte_size=byte_size,
            expires_at=expires_at,
            state=UploadState.PENDING,
        )
        if await services.stores.uploads.insert(record):
            return record
    raise RuntimeError("random upload ids kept colliding: is the random source broken?")


async def form_may_write(services: Services, form: SignedForm) -> bool:
    """Whether a signed upload form may write its key: only the key of a pending,
    unexpired upload, under its owner's own prefix, of its type and size. The signature
    says the server made the form; this says the form is still one the server would make."""
    record = await services.stores.uploads.find_by_key(form.key)
    return (
        record is not None
        and upload_key_owner(form.key) == record.owner_id
        and record.state is UploadState.PENDING
        and record.expires_at > services.clock()
        and record.content_type == form.content_type
        and record.byte_size == form.max_bytes
    )


async def usable_uploads(
    context: Context, raw_ids: list[str], field_name: str
) -> list[UploadRecord] | FieldError:
    """The viewer's unused, unexpired image uploads named by `raw_ids`, in order; or the
    first problem, naming `field_name`. Their bytes are not read here (`arrived_image`)."""
    uploads = await unused_uploads(context, raw_ids, field_name)
    if isinstance(uploads, FieldError):
        return uploads
    for position, record in enumerate(uploads, start=1):
        if record.content_type not in IMAGE_CONTENT_TYPES:
            return FieldError(ErrorCode.INVALID, field_name, f"Upload {position} is not an image.")
    return uploads


async def unused_uploads(
    context: Context, raw_ids: list[str], field_name: str
) -> list[UploadRecord] | FieldError:
    """The viewer's unused, unexpired uploads named by `raw_ids`, of any type we take, in
    order; or the first problem, naming `field_name`. What needs a photo or a video checks
    the type itself (`usable_uploads` for photos)."""
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
        usable.append(record)
    return usable


async def arrived_image(
    context: Context, record: UploadRecord, position: int, field_name: str
) -> ArrivedImage | FieldError:
    """What arrived for the upload (never more than it declared), if it is what it declared;
    else the problem, naming the upload by its `position` in `field_name`."""
    data = await context.services.objects.read(record.key, max_bytes=record.byte_size)
    checked = _checked_header(record, data)
    if isinstance(checked, str):
        return FieldError(ErrorCode.INVALID, field_name, f"Upload {position}: {checked}")
    assert data is not None
    return ArrivedImage(data, checked)


def _checked_header(record: UploadRecord, data: bytes | None) -> ImageHeader | str:
    """The header of what arrived when it is what the upload declared; else what is wrong."""
    if data is None:
        return "nothing was uploaded."
    if len(data) != record.byte_size:
        return f"{len(data):,} bytes arrived, {record.byte_size:,} were declared."
    try:
        header = read_header(data)
    except ImageRejected as error:
        return str(error)
    if header is None or header.content_type != record.content_type:
        actual = "not an image we accept" if header is None else header.content_type
        return f"the file is {actual}, not {record.content_type}."
    return header
