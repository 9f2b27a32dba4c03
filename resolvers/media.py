"""Media made from uploads: each upload read, checked and rendered in turn, then every
rendition stored under a content-addressed key.

One upload's bytes are alive at a time (up to 20 MB; a post has up to ten), and its decode
waits for one of the process's decode slots (`Services.decode_slots`), so a request holds
one image's worth of memory however many photos it carries; and a request decodes at most
MAX_PIXELS_PER_REQUEST pixels, counted from each header before its decode. Nothing is
stored until every upload has rendered: a post refused for its fifth photo leaves no
renditions of the first four.

Renditions are content-addressed, so an identical image posted twice shares its objects. A
request that fails after storing (`MediaWriter.take_back`) removes only the objects it
created, never one that was there before it, which another post may use.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass

from media.accepted import MAX_PIXELS_PER_REQUEST
from media.image import OUTPUT_CONTENT_TYPE, ImageRejected, Render, Rendition
from resolvers.context import Context
from resolvers.errors import ErrorCode, FieldError
from resolvers.upload import arrived_image
from storage.objects import MEDIA_KEY_PREFIX
from storage.post import MediaRecord, RenditionRecord
from storage.upload import UploadRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RenderedImage:
    """One upload's renditions, not stored yet, and the pixels its decode cost."""

    renditions: list[Rendition]
    pixels: int


async def media_from_uploads(
    context: Context, uploads: list[UploadRecord], render: Render, field_name: str
) -> list[MediaRecord] | FieldError:
    """A stored image for each upload (checked by `usable_uploads`), in order; or the first
    problem, naming `field_name`, with nothing stored."""
    rendered = await rendered_uploads(context, uploads, render, field_name)
    if isinstance(rendered, FieldError):
        return rendered
    return await MediaWriter(context).store(rendered)


async def rendered_uploads(
    context: Context, uploads: list[UploadRecord], render: Render, field_name: str
) -> list[RenderedImage] | FieldError:
    """Each upload rendered, in order; or the first problem, naming `field_name` (the
    uploads after it are never read, and no more than the pixel budget is ever decoded)."""
    rendered: list[RenderedImage] = []
    pixels_left = MAX_PIXELS_PER_REQUEST
    for position, upload in enumerate(uploads, start=1):
        image = await _rendered(context, upload, position, render, field_name, pixels_left)
        if isinstance(image, FieldError):
            return image
        rendered.append(image)
        pixels_left -= image.pixels
    return rendered


async def _rendered(
    context: Context,
    upload: UploadRecord,
    position: int,
    render: Render,
    field_name: str,
    pixels_left: int,
) -> RenderedImage | FieldError:
    """The upload's renditions; its bytes are dropped when this returns."""
    arrived = await arrived_image(context, upload, position, field_name)
    if isinstance(arrived, FieldError):
        return arrived
    if arrived.header.pixels > pixels_left:
        return FieldError(
            ErrorCode.INVALID,
            field_name,
            f"Upload {position}: the photos of one request may have "
            f"{MAX_PIXELS_PER_REQUEST:,} pixels in all.",
        )
    try:
        renditions = await context.services.decode_slots.render(render, arrived.data)
    except ImageRejected as error:
        return FieldError(ErrorCode.INVALID, field_name, f"Upload {position}: {error}")
    return RenderedImage(renditions, arrived.header.pixels)


class MediaWriter:
    """Stores one request's renditions, remembering which objects it created and which it
    found already there (an identical image stored before)."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self.created: list[str] = []
        self._reused: dict[str, bytes] = {}

    async def store(self, rendered: list[RenderedImage]) -> list[MediaRecord]:
        return [await self._stored(image.renditions) for image in rendered]

    async def _stored(self, renditions: list[Rendition]) -> MediaRecord:
        objects = self._context.services.objects
        stored: list[RenditionRecord] = []
        for rendition in renditions:
            key = f"{MEDIA_KEY_PREFIX}{hashlib.sha256(rendition.data).hexdigest()}.jpg"
            if await objects.create(key, rendition.data, content_type=OUTPUT_CONTENT_TYPE):
                self.created.append(key)
            else:
                self._reused[key] = rendition.data
            stored.append(RenditionRecord(rendition.width, rendition.height, key))
        return MediaRecord(
            id=self._context.services.ids.next_id(),
            type="IMAGE",
            width=stored[0].width,
            height=stored[0].height,
            renditions=tuple(stored),
        )

    async def confirm(self) -> None:
        """Once what uses them is saved: store again any object this request found already
        there and that the failed request which had just created it took back meanwhile."""
        objects = self._context.services.objects
        for key, data in self._reused.items():
            await objects.create(key, data, content_type=OUTPUT_CONTENT_TYPE)

    async def take_back(self, keep: Collection[str] = ()) -> None:
        """Remove the objects this request created (but those in `keep`), when what would
        have used them was not saved. Runs while a failure propagates: a removal that fails
        in turn is logged (the object is left behind), never raised over the first error."""
        objects = self._context.services.objects
        for key in self.created:
            if key in keep:
                continue
            try:
                await objects.delete(key)
            except Exception:
                logger.warning(
                    "could not remove rendition %s of a failed request", key, exc_info=True
                )


def rendition_keys(media: Collection[MediaRecord]) -> frozenset[str]:
    return frozenset(rendition.key for item in media for rendition in item.renditions)


def media_url(context: Context, key: str) -> str:
    return f"{context.services.media_base_url}/{key}"
