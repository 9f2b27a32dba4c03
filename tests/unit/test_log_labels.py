"""Training rows from the interaction log: each ranked impression's logged features, labelled
by what the same viewer did to the same post within the attribution window after it; no
PyTorch needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest

from ranking.features import FEATURE_COUNT, FEATURE_SCHEMA_ID, feature_bytes
from ranking.model import HEADS
from ranking.training.labels import (
    ATTRIBUTION_WINDOW,
    OBSERVED_HEADS,
    LoggedSet,
    TooFewRows,
    check_trainable,
    label_impressions,
)
from storage.interaction import ImpressionScoring, Interaction, InteractionKind
from storage.mongo import Document

SHOWN = datetime(2026, 6, 1, 12, tzinfo=UTC)
FINAL = SHOWN + timedelta(days=3)  # every impression's window has closed
VIEWER, OTHER, AUTHOR, POST = 1, 2, 3, 40


def vector(seed: int) -> npt.NDArray[np.float32]:
    return np.random.default_rng(seed).random(FEATURE_COUNT).astype(np.float32)


def impression(
    viewer: int = VIEWER,
    post: int = POST,
    *,
    at: datetime = SHOWN,
    window: int = 7,
    features: npt.NDArray[np.float32] | None = None,
    schema: int = FEATURE_SCHEMA_ID,
    ranked: bool = True,
) -> Document:
    scoring = ImpressionScoring(
        feature_bytes(vector(post) if features is None else features), schema, "v1", window
    )
    return Interaction(
        InteractionKind.IMPRESSION, viewer, AUTHOR, at, post_id=post, surface="feed",
        position=0, scoring=scoring if ranked else None,
    ).document()  # fmt: skip


def engagement(kind: InteractionKind, viewer: int = VIEWER, *, after: timedelta) -> Document:
    return Interaction(kind, viewer, AUTHOR, SHOWN + after, post_id=POST).document()


def label(logged: LoggedSet, head: str, row: int = 0) -> float:
    return float(logged.labels[row, HEADS.index(head)])


def test_a_like_within_the_window_labels_the_impression_liked() -> None:
    logged = label_impressions(
        [impression(), engagement(InteractionKind.LIKE, after=timedelta(hours=3))], FINAL
    )

    assert logged.rows == 1
    assert label(logged, "like") == 1.0
    assert label(logged, "comment") == 0.0


def test_a_comment_within_the_window_labels_the_comment_head() -> None:
    logged = label_impressions(
        [impression(), engagement(InteractionKind.COMMENT, after=timedelta(minutes=5))], FINAL
    )

    assert (label(logged, "like"), label(logged, "comment")) == (0.0, 1.0)


def test_a_like_after_the_window_does_not_label_the_impression() -> None:
    late = ATTRIBUTION_WINDOW + timedelta(minutes=1)

    logged = label_impressions([impression(), engagement(InteractionKind.LIKE, after=late)], FINAL)

    assert label(logged, "like") == 0.0


def test_a_like_before_the_impression_does_not_label_it() -> None:
    logged = label_impressions(
        [impression(), engagement(InteractionKind.LIKE, after=-timedelta(hours=1))], FINAL
    )

    assert label(logged, "like") == 0.0


def test_another_viewers_like_does_not_label_the_impression() -> None:
    logged = label_impressions(
        [impression(), engagement(InteractionKind.LIKE, OTHER, after=timedelta(hours=1))], FINAL
    )

    assert label(logged, "like") == 0.0


def test_the_row_is_the_logged_features_exactly() -> None:
    served = vector(99)

    logged = label_impressions([impression(features=served)], FINAL)

    np.testing.assert_array_equal(logged.features[0], served)


def test_the_same_impression_logged_twice_is_one_row_timed_by_its_first_showing() -> None:
    """Given the same window's post shown at 12:00 and again at 13:00 (a page fetched twice)
    and a like 24h30 after the first: one row, and the like is outside its window."""
    again = impression(at=SHOWN + timedelta(hours=1))
    like = engagement(InteractionKind.LIKE, after=ATTRIBUTION_WINDOW + timedelta(minutes=30))

    logged = label_impressions([impression(), again, like], FINAL)

    assert logged.rows == 1
    assert label(logged, "like") == 0.0
    assert logged.skipped["duplicate"] == 1


def test_the_same_post_shown_from_two_windows_is_two_rows() -> None:
    logged = label_impressions([impression(window=7), impression(window=8)], FINAL)

    assert logged.rows == 2


def test_the_heads_the_log_does_not_observe_are_masked_and_labelled_zero() -> None:
    logged = label_impressions(
        [impression(), engagement(InteractionKind.LIKE, after=timedelta(hours=1))], FINAL
    )

    assert logged.observed_heads == OBSERVED_HEADS == ("like", "comment")
    assert (label(logged, "share"), label(logged, "long_view")) == (0.0, 0.0)


def test_an_impression_of_a_newest_first_page_is_no_row() -> None:
    logged = label_impressions([impression(ranked=False)], FINAL)

    assert logged.rows == 0
    assert logged.skipped["unranked"] == 1


def test_an_impression_of_another_feature_schema_is_no_row() -> None:
    logged = label_impressions([impression(schema=FEATURE_SCHEMA_ID + 1)], FINAL)

    assert logged.rows == 0
    assert logged.skipped["other_schema"] == 1


def test_an_impression_whose_window_is_still_open_is_no_row() -> None:
    logged = label_impressions([impression()], SHOWN + ATTRIBUTION_WINDOW - timedelta(seconds=1))

    assert logged.rows == 0
    assert logged.skipped["not_final"] == 1


def test_too_few_rows_are_refused_with_the_minimum_named() -> None:
    logged = label_impressions([impression(post=n) for n in range(5)], FINAL)

    with pytest.raises(TooFewRows, match="MIN_TRAINING_ROWS"):
        check_trainable(logged)


def test_a_head_with_too_few_positives_is_refused() -> None:
    logged = label_impressions([impression(post=n) for n in range(5)], FINAL)

    with pytest.raises(TooFewRows, match="likes"):
        check_trainable(logged, min_rows=5)
