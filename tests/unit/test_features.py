"""The feature vector of a (viewer, candidate) pair: pure functions of gathered inputs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from ranking.features import (
    FEATURE_COUNT,
    FEATURE_NAMES,
    CandidateSignals,
    ViewerSignals,
    column_index,
    feature_matrix,
)

PLAIN = CandidateSignals(
    age_hours=2.0, like_count=9, comment_count=3, is_video=False, media_count=1,
    author_follower_count=99, author_post_count=4, author_engagements=50.0,
    viewer_follows_author=True, is_own_post=False, likes_of_author=0.0,
    comments_on_author=0.0, profile_opens_of_author=0.0, messages_with_author=0.0,
    hashtag_engagements=0.0,
)  # fmt: skip


def feature(name: str, candidate: CandidateSignals, activity: float = 0.0) -> float:
    return float(feature_matrix(ViewerSignals(activity), [candidate])[0, column_index(name)])


def test_a_window_is_a_float32_matrix_of_one_row_per_candidate() -> None:
    matrix = feature_matrix(ViewerSignals(1.0), [PLAIN, PLAIN, PLAIN])

    assert matrix.shape == (3, FEATURE_COUNT)
    assert matrix.dtype == np.float32


def test_an_empty_window_has_no_rows_and_every_column() -> None:
    assert feature_matrix(ViewerSignals(0.0), []).shape == (0, FEATURE_COUNT)


def test_feature_names_are_unique() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_counts_enter_as_log1p() -> None:
    assert feature("log_likes", PLAIN) == pytest.approx(math.log(10))
    assert feature("log_age_hours", PLAIN) == pytest.approx(math.log(3))


def test_engagement_per_follower_divides_by_followers_plus_one() -> None:
    assert feature("log_engagement_per_follower", PLAIN) == pytest.approx(math.log1p(12 / 100))


def test_author_engagement_rate_is_per_post_per_follower() -> None:
    assert feature("author_engagement_rate", PLAIN) == pytest.approx(50 / (5 * 100))


def test_following_the_author_is_one_and_not_following_zero() -> None:
    stranger = dataclasses.replace(PLAIN, viewer_follows_author=False)

    assert feature("viewer_follows_author", PLAIN) == 1.0
    assert feature("viewer_follows_author", stranger) == 0.0


def test_hashtag_affinity_is_the_share_of_the_viewers_activity_on_the_posts_tags() -> None:
    fan = dataclasses.replace(PLAIN, hashtag_engagements=6.0)

    assert feature("hashtag_affinity", fan, activity=11.0) == pytest.approx(6 / 12)


def test_hashtag_affinity_never_exceeds_one() -> None:
    fan = dataclasses.replace(PLAIN, hashtag_engagements=50.0)

    assert feature("hashtag_affinity", fan, activity=3.0) == 1.0


def test_the_viewers_interactions_with_the_author_are_separate_features() -> None:
    friend = dataclasses.replace(PLAIN, comments_on_author=4.0, messages_with_author=1.0)

    assert feature("log_viewer_comments_on_author", friend) == pytest.approx(math.log(5))
    assert feature("log_viewer_messages_with_author", friend) == pytest.approx(math.log(2))
    assert feature("log_viewer_likes_of_author", friend) == 0.0


def test_a_post_from_the_future_counts_as_new() -> None:
    skewed = dataclasses.replace(PLAIN, age_hours=-1.0)

    assert feature("log_age_hours", skewed) == 0.0


def test_a_video_post_is_marked_and_media_count_is_capped() -> None:
    reel = dataclasses.replace(PLAIN, is_video=True, media_count=40)

    assert feature("is_video", reel) == 1.0
    assert feature("media_count", reel) == 10.0
