"""The video job: transcoding a reel's or a video story's upload into its rendition.

Queued by createReel and createStory (resolvers/video.py), which have probed the upload
and stored its poster already, so the record exists at once as PROCESSING. The job reads
the upload's bytes, transcodes them on one of the process's transcode slots (off the event
loop, MAX_CONCURRENT_TRANSCODES at once), stores the rendition under a content-addressed
key, and moves the record to READY, or to FAILED with the reason when the transcode
refuses the file (what the probe could not see: a stream that stops decoding halfway, a
bound broken while decoding). Then it removes the upload's bytes, which nothing needs
any more.

A job that is dead-lettered fails its record the same way (`give_up_video_job`), so no
reel or story stays PROCESSING after its job is given up.

At least once, and idempotent: the move is a conditional update on PROCESSING (the stores'
`finish_video`), so a redelivered job, or two workers racing, change the record once; a
job that finds the record done or gone only removes the source. The rendition's key is its
content's hash: a redone transcode of the same bytes writes the same object, and a job
that lost the race removes its object only when the record points at another one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from datetime import UTC, datetime

from jobs.context import JobServices
from media.accepted import MAX_VIDEO_BYTES
from media.video import (
    MAX_REEL_SECONDS,
    MAX_STORY_SECONDS,
    OUTPUT_CONTENT_TYPE,
    TranscodedVideo,
    VideoRejected,
    transcode,
)
from storage.notification import NotificationCause, NotificationJob
from storage.objects import MEDIA_KEY_PREFIX
from storage.post import MediaRecord, RenditionRecord
from storage.video import VideoJob, VideoOwner, VideoState, VideoStatus
from subscriptions.events import ReelProcessed

logger = logging.getLogger(__name__)

MAX_SECONDS = {VideoOwner.REEL: MAX_REEL_SECONDS, VideoOwner.STORY: MAX_STORY_SECONDS}
UNPROCESSABLE = "The video could not be processed."  # what a failure we did not foresee says


async def run_video_job(services: JobServices, job: VideoJob) -> None:
    current = await _current(services, job)
    if current is None or current[0].status is not VideoStatus.PROCESSING:
        await _remove_source(services, job)
        return
    video, media = current
    data = await services.objects.read(job.source_key, max_bytes=MAX_VIDEO_BYTES)
    if data is None:
        outcome = dataclasses.replace(
            video, status=VideoStatus.FAILED, failure="The uploaded video is gone."
        )
        await _finish(services, job, outcome, media)
    else:
        rendition = await _transcoded(services, job, data)
        del data  # up to MAX_VIDEO_BYTES: not held while the rendition is stored
        if isinstance(rendition, str):
            outcome = dataclasses.replace(video, status=VideoStatus.FAILED, failure=rendition)
            await _finish(services, job, outcome, media)
        else:
            await _store_ready(services, job, video, media, rendition)
    await _remove_source(services, job)


async def give_up_video_job(services: JobServices, job: VideoJob) -> None:
    """For a video job about to be dead-lettered (it failed on every delivery, or its
    deliveries never came back): its record leaves PROCESSING as FAILED, as an unforeseen
    failure says, so its author is told (reelProcessed) and not left waiting for ever."""
    current = await _current(services, job)
    if current is not None and current[0].status is VideoStatus.PROCESSING:
        video, media = current
        outcome = dataclasses.replace(video, status=VideoStatus.FAILED, failure=UNPROCESSABLE)
        await _finish(services, job, outcome, media)
    await _remove_source(services, job)


async def _current(services: JobServices, job: VideoJob) -> tuple[VideoState, MediaRecord] | None:
    """The record's video state and media as stored now; None when it is gone."""
    stores = services.stores
    if job.owner is VideoOwner.REEL:
        post = (await stores.posts.find_by_ids([job.owner_id])).get(job.owner_id)
        if post is None or post.video is None or not post.media:
            return None
        return post.video, post.media[0]
    story = (await stores.stories.find_by_ids([job.owner_id])).get(job.owner_id)
    if story is None or story.video is None:
        return None
    return story.video, story.media


async def _transcoded(services: JobServices, job: VideoJob, data: bytes) -> TranscodedVideo | str:
    """The rendition, or why the video FAILED."""
    try:
        return await services.transcode_slots.run(transcode, data, MAX_SECONDS[job.owner])
    except VideoRejected as error:
        return str(error)
    except Exception:
        # Pure CPU work on bytes: what it raises, it would raise again on every delivery.
        logger.exception("video %s %d could not be transcoded", job.owner, job.owner_id)
        return UNPROCESSABLE


async def _store_ready(
    services: JobServices,
    job: VideoJob,
    video: VideoState,
    media: MediaRecord,
    rendition: TranscodedVideo,
) -> None:
    key = f"{MEDIA_KEY_PREFIX}{hashlib.sha256(rendition.data).hexdigest()}.mp4"
    created = await services.objects.create(key, rendition.data, content_type=OUTPUT_CONTENT_TYPE)
    ready = dataclasses.replace(
        video, status=VideoStatus.READY, duration_seconds=rendition.duration_seconds
    )
    shown = dataclasses.replace(
        media,
        width=rendition.width,
        height=rendition.height,
        renditions=(RenditionRecord(rendition.width, rendition.height, key),),
    )
    if await _finish(services, job, ready, shown):
        await _tell_mentions(services, job)
        return
    if not created:
        return
    # Another delivery finished first: keep this object only if the record uses it.
    now = await _current(services, job)
    used = now is not None and any(r.key == key for r in now[1].renditions)
    if not used:
        await services.objects.delete(key)


async def _finish(
    services: JobServices, job: VideoJob, video: VideoState, media: MediaRecord
) -> bool:
    stores = services.stores
    if job.owner is VideoOwner.REEL:
        finished = await stores.posts.finish_video(job.owner_id, video, (media,))
    else:
        finished = await stores.stories.finish_video(job.owner_id, video, media)
    if finished and video.status is VideoStatus.FAILED:
        logger.info("video %s %d failed: %s", job.owner, job.owner_id, video.failure)
    if finished and job.owner is VideoOwner.REEL:
        # After the status move is durable, and once: a redelivered job finishes nothing.
        await services.bus.publish(ReelProcessed(reel_id=job.owner_id))
    return finished


async def _tell_mentions(services: JobServices, job: VideoJob) -> None:
    """A reel's caption mentions are notified once it is READY: before, nobody else may see
    it, and the notification job would drop them."""
    if job.owner is not VideoOwner.REEL:
        return
    post = (await services.stores.posts.find_by_ids([job.owner_id])).get(job.owner_id)
    if post is not None and post.mention_ids:
        job_of_mentions = NotificationJob(NotificationCause.POST, post.id, post.author_id)
        await services.stores.fanout.enqueue(job_of_mentions, now=datetime.now(UTC))


async def _remove_source(services: JobServices, job: VideoJob) -> None:
    await services.objects.delete(job.source_key)
