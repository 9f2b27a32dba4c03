"""The processing state of a video (a reel's, a video story's), kept on its record, and the
job that processes it.

A video exists at once as PROCESSING, with the upload it came from (`source_key`) and its
poster; the video job (jobs/video.py) transcodes the source and moves it, once, to READY
(with its rendition on the record's media) or to FAILED (with the reason): the stores'
`finish_video` is a conditional update on `status: PROCESSING`, so a redelivered job, or two
workers racing, change it once. Then the source's bytes are removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.mongo import Document

JOB_KIND = "video"  # the `kind` field of a video job on the job stream


class VideoStatus(StrEnum):
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


class VideoOwner(StrEnum):
    """What a video belongs to: a reel (a post with a video) or a story."""

    REEL = "reel"
    STORY = "story"


@dataclass(frozen=True, slots=True)
class VideoState:
    status: VideoStatus
    source_key: str  # the upload's bytes, until the job is done with them
    duration_seconds: float  # the probe's, then the rendition's
    failure: str | None = None  # why it FAILED, safe to show its author


def video_document(video: VideoState) -> Document:
    document: Document = {
        "status": video.status.value,
        "source_key": video.source_key,
        "duration_seconds": video.duration_seconds,
    }
    if video.failure is not None:
        document["failure"] = video.failure
    return document


def video_state(document: Document | None) -> VideoState | None:
    if document is None:
        return None
    return VideoState(
        status=VideoStatus(document["status"]),
        source_key=document["source_key"],
        duration_seconds=float(document["duration_seconds"]),
        failure=document.get("failure"),
    )


@dataclass(frozen=True, slots=True)
class VideoJob:
    """Queued when a reel or a video story is created, done by the worker (jobs/video.py).
    It carries the source key, so a job whose record was deleted meanwhile still removes
    the source's bytes."""

    owner: VideoOwner
    owner_id: int
    source_key: str

    def fields(self) -> dict[str, str]:
        return {
            "kind": JOB_KIND,
            "owner": self.owner.value,
            "owner_id": str(self.owner_id),
            "source_key": self.source_key,
        }

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> VideoJob:
        """Raises KeyError, ValueError or UnicodeDecodeError for what is not such a job."""
        return cls(
            owner=VideoOwner(fields[b"owner"].decode()),
            owner_id=int(fields[b"owner_id"]),
            source_key=fields[b"source_key"].decode(),
        )
