"""Videos from uploads, as reels and video stories use them: in the request, the upload is
checked against its declaration, probed (media/video.py: refused with a payload error when
it is not a real video within the limits) and its poster frame rendered through the image
path; the transcode is the video job's (jobs/video.py), queued once the record is saved.

The probe and the poster run on the process's decode slots, as image renders do, so a
request holds one upload's bytes (at most MAX_VIDEO_BYTES) and one core at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from media.accepted import VIDEO_CONTENT_TYPES
from media.image import ImageRejected, render_poster
from media.video import ProbedVideo, VideoRejected, output_size, probe_video
from resolvers.context import Context, Services
from resolvers.errors import ErrorCode, FieldError
from resolvers.media import RenderedImage
from storage.post import MediaRecord
from storage.upload import UploadRecord
from storage.video import VideoJob, VideoOwner, VideoState, VideoStatus


@dataclass(frozen=True, slots=True)
class CheckedVideo:
    """An upload probed as a video, and its poster rendered (not stored yet)."""

    probe: ProbedVideo
    poster: RenderedImage


async def checked_video(
    context: Context, upload: UploadRecord, max_seconds: float, field_name: str
) -> CheckedVideo | FieldError:
    """The upload (one of `unused_uploads`) probed as an MP4 of at most `max_seconds`, with
    its poster; or the problem, naming `field_name`."""
    if upload.content_type not in VIDEO_CONTENT_TYPES:
        return FieldError(ErrorCode.INVALID, field_name, "The upload is not an MP4 video.")
    data = await context.services.objects.read(upload.key, max_bytes=upload.byte_size)
    if data is None:
        return FieldError(ErrorCode.INVALID, field_name, "Nothing was uploaded.")
    if len(data) != upload.byte_size:
        return FieldError(
            ErrorCode.INVALID,
            field_name,
            f"{len(data):,} bytes arrived, {upload.byte_size:,} were declared.",
        )
    slots = context.services.decode_slots
    try:
        probed = await slots.run(probe_video, data, max_seconds)
    except VideoRejected as error:
        return FieldError(ErrorCode.INVALID, field_name, str(error))
    del data
    try:
        renditions = await slots.render(render_poster, probed.poster)
    except ImageRejected as error:  # a frame the image path refuses (a sliver of a video)
        return FieldError(ErrorCode.INVALID, field_name, f"The video's frames: {error}")
    width, height = probed.probe.upright_size
    return CheckedVideo(probed, RenderedImage(renditions, width * height))


def processing_media(context: Context, checked: CheckedVideo, poster: MediaRecord) -> MediaRecord:
    """The media of a video not transcoded yet: its size as it will be, its poster (stored
    as `poster`), no rendition until the job adds it."""
    width, height = output_size(*checked.probe.probe.upright_size)
    return MediaRecord(
        id=context.services.ids.next_id(),
        type="VIDEO",
        width=width,
        height=height,
        renditions=(),
        poster_key=poster.renditions[0].key,
    )


def processing_state(upload: UploadRecord, checked: CheckedVideo) -> VideoState:
    return VideoState(
        status=VideoStatus.PROCESSING,
        source_key=upload.key,
        duration_seconds=checked.probe.probe.duration_seconds,
    )


async def enqueue(services: Services, owner: VideoOwner, owner_id: int, source_key: str) -> None:
    """Queue the transcode; while Redis is unreachable the queue keeps it in MongoDB."""
    await services.stores.fanout.enqueue(
        VideoJob(owner, owner_id, source_key), now=services.clock()
    )
