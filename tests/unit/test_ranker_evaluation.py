"""The offline evaluation: its metrics, and a small run end to end."""

from __future__ import annotations

import numpy as np
import pytest

from ranking.simulation import SimulationConfig
from ranking.training.evaluate import auc, evaluate_model, ndcg_at, report


def test_ndcg_of_the_ideal_order_is_one() -> None:
    relevance = np.array([0.0, 3.0, 1.0])

    assert ndcg_at(relevance, relevance) == pytest.approx(1.0)


def test_ndcg_of_a_window_with_nothing_relevant_is_undefined() -> None:
    assert ndcg_at(np.array([1.0, 2.0]), np.zeros(2)) is None


def test_auc_of_a_perfect_separation_is_one_and_of_constant_scores_a_half() -> None:
    labels = np.array([0.0, 0.0, 1.0, 1.0])

    assert auc(np.array([0.1, 0.2, 0.8, 0.9]), labels) == 1.0
    assert auc(np.ones(4), labels) == 0.5


def test_a_small_evaluation_ranks_the_oracle_first_and_reports_every_method() -> None:
    evaluation = evaluate_model(SimulationConfig(users=60, days=5, seed=3))

    best = max(evaluation.results, key=lambda result: result.ndcg)
    assert best.name == "oracle"
    assert {result.name for result in evaluation.results} == {
        "reverse chronological",
        "popularity",
        "old linear formula",
        "trained model",
        "oracle",
    }
    assert "NDCG@10" in report(evaluation)
