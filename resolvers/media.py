"""Using uploads: check what arrived against what was declared, render it, store the result
under content-addressed keys, and claim the uploads for the thing that uses them."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError
from resolvers.ids import typed_id_argument
from resolvers.images import (
    OUTPUT_CONTENT_TYPE,
    ImageRejected,
    Rendition,
    sniff_content_type,
)
from resolvers.upload import IMAGE_CONTENT_TYPES
from storage.post import MediaRecord, RenditionRecord
from storage.upload import UploadRecord, UploadState

MEDIA_KEY_PREFIX = "media/"


async def checked_uploads(
    context: Context, raw_ids: list[str], field_name: str
) -> list[tuple[UploadRecord, bytes]] | FieldError:
    """The viewer's unused, unexpired image uploads named by `raw_ids`, with their bytes,
    in order; or the first problem, naming `field_name`."""
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
    contents = await asyncio.gather(
        *(
            context.services.objects.read(
                records[upload_id].key, max_bytes=records[upload_id].byte_size
            )
            for upload_id in ids
        )
    )
    checked: list[tuple[UploadRecord, bytes]] = []
    for position, (upload_id, data) in enumerate(zip(ids, contents, strict=True), start=1):
        record = records[upload_id]
        problem = _arrival_problem(record, data)
        if problem is not None:
            return FieldError(ErrorCode.INVALID, field_name, f"Upload {position}: {problem}")
        assert data is not None
        checked.append((record, data))
    return checked


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


async def store_image(
    context: Context, data: bytes, render: Callable[[bytes], list[Rendition]], field_name: str
) -> MediaRecord | FieldError:
    """Render the image off the event loop and store each rendition by its content hash."""
    try:
        renditions = await asyncio.to_thread(render, data)
    except ImageRejected as error:
        return FieldError(ErrorCode.INVALID, field_name, str(error))
    stored: list[RenditionRecord] = []
    for rendition in renditions:
        key = f"{MEDIA_KEY_PREFIX}{hashlib.sha256(rendition.data).hexdigest()}.jpg"
        await context.services.objects.write(key, rendition.data, content_type=OUTPUT_CONTENT_TYPE)
        stored.append(RenditionRecord(rendition.width, rendition.height, key))
    return MediaRecord(
        id=context.services.ids.next_id(),
        type="IMAGE",
        width=stored[0].width,
        height=stored[0].height,
        renditions=tuple(stored),
    )


def media_url(context: Context, key: str) -> str:
    return f"{context.services.media_base_url}/{key}"
