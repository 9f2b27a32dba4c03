"""The ranker: one model call per window, scores weighted per surface, ties newest first."""

from __future__ import annotations

import numpy as np
import pytest

from ranking.features import FEATURE_COUNT
from ranking.model import HEADS, Features, Probabilities
from ranking.ranker import Ranker, RankerError
from ranking.weights import SURFACE_WEIGHTS
from storage.ranked_window import Surface


class FixedModel:
    """Answers given probabilities, and counts its calls."""

    def __init__(self, probabilities: list[list[float]]) -> None:
        self.probabilities = np.array(probabilities, dtype=np.float32)
        self.calls = 0

    async def predict(self, features: Features) -> Probabilities:
        self.calls += 1
        return self.probabilities[: len(features)]


def features(rows: int) -> Features:
    return np.zeros((rows, FEATURE_COUNT), dtype=np.float32)


async def test_a_likely_comment_outranks_a_likely_like_on_the_feed() -> None:
    # Twitter's weights: a reply (13.5) is worth 27 likes (0.5 each).
    model = FixedModel([[0.9, 0.0, 0.0, 0.0], [0.0, 0.1, 0.0, 0.0]])

    ranked = await Ranker(model).rank(Surface.FEED.value, [1, 2], features(2))

    assert ranked == [2, 1]


async def test_a_score_is_the_surface_weighted_sum_of_the_heads() -> None:
    probabilities = [0.1, 0.2, 0.3, 0.4]
    model = FixedModel([probabilities])

    (score,) = await Ranker(model).score(Surface.EXPLORE.value, features(1))

    expected = sum(w * p for w, p in zip(SURFACE_WEIGHTS["explore"], probabilities, strict=True))
    assert score == pytest.approx(expected, rel=1e-6)


async def test_ties_keep_the_newest_first() -> None:
    model = FixedModel([[0.5, 0.1, 0.1, 0.1]] * 3)

    assert await Ranker(model).rank(Surface.FEED.value, [1, 3, 2], features(3)) == [3, 2, 1]


async def test_scores_within_numerical_noise_tie_and_go_newest_first() -> None:
    model = FixedModel([[0.5, 0.1, 0.1, 0.1000001], [0.5, 0.1, 0.1, 0.1]])

    assert await Ranker(model).rank(Surface.FEED.value, [1, 2], features(2)) == [2, 1]


async def test_one_model_call_scores_the_whole_window() -> None:
    model = FixedModel([[0.1] * len(HEADS)] * 200)

    scores = await Ranker(model).score(Surface.FEED.value, features(200))

    assert len(scores) == 200
    assert model.calls == 1


async def test_an_empty_window_calls_no_model() -> None:
    model = FixedModel([])

    assert await Ranker(model).rank(Surface.FEED.value, [], features(0)) == []
    assert model.calls == 0


async def test_an_answer_of_the_wrong_shape_is_refused() -> None:
    model = FixedModel([[0.1, 0.2]])

    with pytest.raises(RankerError):
        await Ranker(model).score(Surface.FEED.value, features(1))
