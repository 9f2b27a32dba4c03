"""Media made from uploads: each upload read, checked and rendered in turn, then every
rendition stored under a content-addressed key.

One upload's bytes are alive at a time (up to 20 MB; a post has up to ten), and its decode
waits for one of the process's decode slots (`Services.decode_slots`), so a request holds
one image's worth of memory however many photos it carries. Nothing is stored until every
upload has rendered: a post refused for its fifth photo leaves no renditions of the first four.
"""

from __future__ import annotations

import hashlib

from media.image import OUTPUT_CONTENT_TYPE, ImageRejected, Render, Rendition
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError
from resolvers.upload import arrived_bytes
from storage.post import MediaRecord, RenditionRecord
from storage.upload import UploadRecord

MEDIA_KEY_PREFIX = "media/"


async def media_from_uploads(
    context: Context, uploads: list[UploadRecord], render: Render, field_name: str
) -> list[MediaRecord] | FieldError:
    """A stored image for each upload (checked by `usable_uploads`), in order; or the first
    problem, naming `field_name`, with nothing stored."""
    rendered: list[list[Rendition]] = []
    for position, upload in enumerate(uploads, start=1):
        renditions = await _rendered(context, upload, position, render, field_name)
        if isinstance(renditions, FieldError):
            return renditions  # the uploads after it are never read
        rendered.append(renditions)
    return [await _stored(context, renditions) for renditions in rendered]


async def _rendered(
    context: Context, upload: UploadRecord, position: int, render: Render, field_name: str
) -> list[Rendition] | FieldError:
    """The upload's renditions; its bytes are dropped when this returns."""
    data = await arrived_bytes(context, upload, position, field_name)
    if isinstance(data, FieldError):
        return data
    try:
        return await context.services.decode_slots.render(render, data)
    except ImageRejected as error:
        return FieldError(ErrorCode.INVALID, field_name, f"Upload {position}: {error}")


async def _stored(context: Context, renditions: list[Rendition]) -> MediaRecord:
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
