"""What the engagement model sees of a (viewer, candidate post) pair: a fixed-length vector.

Pure functions, no I/O: the inputs of a whole window are gathered first (the post, its
author, the viewer's affinity counters; see `storage/affinity.py`), then `feature_matrix`
turns them into one float32 matrix, one row per candidate, columns in FEATURE_NAMES order.
The simulator (`ranking/simulation.py`) builds the same columns through `feature_columns`,
so training and serving cannot disagree on what a feature means.

Counts are heavy-tailed, so they enter as log1p; the model standardises every column itself.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ranking.model import Features

FEATURE_NAMES = (
    "log_age_hours",
    "log_likes",
    "log_comments",
    "log_engagement_per_follower",  # the post's likes and comments per follower of its author
    "log_author_followers",
    "author_engagement_rate",  # recent engagement the author receives per post per follower
    "is_video",
    "media_count",
    "viewer_follows_author",
    "is_own_post",
    "log_viewer_likes_of_author",  # decayed counts of the viewer's recent interactions
    "log_viewer_comments_on_author",
    "log_viewer_profile_opens_of_author",
    "log_viewer_messages_with_author",
    "hashtag_affinity",  # the share of the viewer's hashtag engagement on the post's tags
    "log_hashtag_engagements",
    "log_viewer_activity",  # the viewer's decayed engagement overall
)
FEATURE_COUNT = len(FEATURE_NAMES)
# What a logged feature vector means: a checksum of FEATURE_NAMES in order, logged beside
# each vector, so training never reads a vector of another feature schema as this one's
# (a feature renamed, reordered or swapped for another keeps the count, not the checksum).
FEATURE_SCHEMA_ID = zlib.crc32(",".join(FEATURE_NAMES).encode())
# A logged vector is the float32 row the model scored, little-endian: 68 bytes for 17.
LOGGED_DTYPE = np.dtype("<f4")
MAX_MEDIA = 10  # a post's carousel holds at most 10 items, as Instagram's

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ViewerSignals:
    """What is known of the viewer, the same for every candidate of a window."""

    activity: float  # decayed engagements of any kind, recently


@dataclass(frozen=True, slots=True)
class CandidateSignals:
    """The inputs of one candidate's features, as gathered for the viewer."""

    age_hours: float
    like_count: int
    comment_count: int
    is_video: bool
    media_count: int
    author_follower_count: int
    author_post_count: int
    author_engagements: float  # decayed likes and comments the author received
    viewer_follows_author: bool
    is_own_post: bool
    likes_of_author: float  # decayed: the viewer's likes of this author's posts
    comments_on_author: float
    profile_opens_of_author: float
    messages_with_author: float
    hashtag_engagements: float  # decayed: the viewer's engagement with the post's hashtags


def feature_columns(
    *,
    age_hours: FloatArray,
    like_count: FloatArray,
    comment_count: FloatArray,
    is_video: FloatArray,
    media_count: FloatArray,
    author_follower_count: FloatArray,
    author_post_count: FloatArray,
    author_engagements: FloatArray,
    viewer_follows_author: FloatArray,
    is_own_post: FloatArray,
    likes_of_author: FloatArray,
    comments_on_author: FloatArray,
    profile_opens_of_author: FloatArray,
    messages_with_author: FloatArray,
    hashtag_engagements: FloatArray,
    viewer_activity: FloatArray,
) -> Features:
    """The feature matrix of aligned input columns (one entry per candidate; a viewer's
    column may be a scalar broadcast to all)."""
    followers = np.maximum(author_follower_count, 0.0)
    engagement = np.maximum(like_count, 0.0) + np.maximum(comment_count, 0.0)
    rate = np.maximum(author_engagements, 0.0) / (
        (np.maximum(author_post_count, 0.0) + 1.0) * (followers + 1.0)
    )
    activity = np.maximum(viewer_activity, 0.0)
    tags = np.maximum(hashtag_engagements, 0.0)
    columns = (
        np.log1p(np.maximum(age_hours, 0.0)),
        np.log1p(np.maximum(like_count, 0.0)),
        np.log1p(np.maximum(comment_count, 0.0)),
        np.log1p(engagement / (followers + 1.0)),
        np.log1p(followers),
        np.minimum(rate, 1.0),
        is_video,
        np.clip(media_count, 0.0, MAX_MEDIA),
        viewer_follows_author,
        is_own_post,
        np.log1p(np.maximum(likes_of_author, 0.0)),
        np.log1p(np.maximum(comments_on_author, 0.0)),
        np.log1p(np.maximum(profile_opens_of_author, 0.0)),
        np.log1p(np.maximum(messages_with_author, 0.0)),
        np.minimum(tags / (activity + 1.0), 1.0),
        np.log1p(tags),
        np.log1p(activity),
    )
    size = max(np.size(column) for column in columns)
    matrix = np.column_stack([np.broadcast_to(column, (size,)) for column in columns])
    return matrix.astype(np.float32)


def feature_matrix(viewer: ViewerSignals, candidates: Sequence[CandidateSignals]) -> Features:
    """One row per candidate, in FEATURE_NAMES order; [0, FEATURE_COUNT] for none."""
    if not candidates:
        return np.zeros((0, FEATURE_COUNT), dtype=np.float32)

    def column(name: str) -> FloatArray:
        return np.array([float(getattr(candidate, name)) for candidate in candidates])

    return feature_columns(
        age_hours=column("age_hours"),
        like_count=column("like_count"),
        comment_count=column("comment_count"),
        is_video=column("is_video"),
        media_count=column("media_count"),
        author_follower_count=column("author_follower_count"),
        author_post_count=column("author_post_count"),
        author_engagements=column("author_engagements"),
        viewer_follows_author=column("viewer_follows_author"),
        is_own_post=column("is_own_post"),
        likes_of_author=column("likes_of_author"),
        comments_on_author=column("comments_on_author"),
        profile_opens_of_author=column("profile_opens_of_author"),
        messages_with_author=column("messages_with_author"),
        hashtag_engagements=column("hashtag_engagements"),
        viewer_activity=np.array([viewer.activity]),
    )


def column_index(name: str) -> int:
    return FEATURE_NAMES.index(name)


def feature_bytes(row: npt.NDArray[np.float32]) -> bytes:
    """A scored row as logged: exactly the float32 values the model read."""
    return np.ascontiguousarray(row, dtype=LOGGED_DTYPE).tobytes()


def features_from_bytes(data: bytes) -> npt.NDArray[np.float32]:
    """A logged row back as the float32 vector the model read."""
    return np.frombuffer(data, dtype=LOGGED_DTYPE).astype(np.float32)
