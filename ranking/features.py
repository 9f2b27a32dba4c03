"""What the ranking model sees of a candidate post, as a fixed-length vector of floats."""

from __future__ import annotations

import math
from dataclasses import dataclass

FEATURE_NAMES = (
    "bias",
    "log_age_hours",
    "log_likes",
    "log_comments",
    "media_count",
    "viewer_follows_author",
)


@dataclass(frozen=True, slots=True)
class Candidate:
    post_id: int
    age_hours: float
    like_count: int
    comment_count: int
    media_count: int
    viewer_follows_author: bool

    def vector(self) -> list[float]:
        return [
            1.0,
            math.log1p(max(self.age_hours, 0.0)),
            math.log1p(self.like_count),
            math.log1p(self.comment_count),
            float(self.media_count),
            1.0 if self.viewer_follows_author else 0.0,
        ]
