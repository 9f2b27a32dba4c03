"""How each ranked surface weighs the model's heads: its score of a post is the weighted sum
of the head probabilities. The weights live here, not in the model, so a surface can change
what it favours without retraining.

They start from the engagement weights Twitter published for its heavy ranker (the
`scored_tweets_model_weight_*` parameters of twitter/the-algorithm-ml,
projects/home/recap/README.md, April 2023: fav 0.5, retweet 1.0, reply 13.5,
good_profile_click 12.0, good_click 11.0, good_click_v2 10.0, video_playback50 0.005,
reply_engaged_by_author 75.0, negative_feedback_v2 -74.0, report -369.0), mapped onto our
heads: like = fav, comment = reply, share (to a DM thread) = retweet, long_view = good_click_v2
(Twitter's "clicked into the conversation and stayed at least 2 minutes": a long dwell).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from ranking.model import HEADS, Probabilities
from storage.ranked_window import Surface

TWITTER_FAV = 0.5
TWITTER_RETWEET = 1.0
TWITTER_REPLY = 13.5
TWITTER_GOOD_CLICK_V2 = 10.0

# Head weights in HEADS order (like, comment, share, long_view).
FEED_WEIGHTS = (TWITTER_FAV, TWITTER_REPLY, TWITTER_RETWEET, TWITTER_GOOD_CLICK_V2)
# Explore shows accounts the viewer does not follow: the same published weights for now.
EXPLORE_WEIGHTS = FEED_WEIGHTS
# On reels long_view means "watched to the end". Twitter's video_playback50 weight (0.005)
# would make watching count for nothing on a video surface, so reels keep good_click_v2's.
REELS_WEIGHTS = FEED_WEIGHTS

SURFACE_WEIGHTS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        Surface.FEED.value: FEED_WEIGHTS,
        Surface.EXPLORE.value: EXPLORE_WEIGHTS,
        Surface.REELS.value: REELS_WEIGHTS,
    }
)
assert all(len(weights) == len(HEADS) for weights in SURFACE_WEIGHTS.values())


def surface_scores(surface: str, probabilities: Probabilities) -> npt.NDArray[np.float64]:
    """Each candidate's score on the surface: its head probabilities, weighted."""
    weights = np.asarray(SURFACE_WEIGHTS[surface], dtype=np.float64)
    return np.asarray(probabilities, dtype=np.float64) @ weights
