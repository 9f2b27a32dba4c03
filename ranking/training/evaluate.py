"""Offline evaluation (`pictograph eval-ranker`): NDCG@10 and per-head AUC of each way of
ordering a window, on held-out users' later days of simulated logs.

The relevance of a candidate is what the viewer would have done with it (the simulator
samples every candidate's outcome, not only those shown), weighed by the feed's head
weights; the oracle orders by the true probabilities, the best any ranker can do in
expectation. Needs onnxruntime (a serving dependency), not PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ranking.features import FEATURE_COUNT, column_index
from ranking.model import HEADS
from ranking.model_file import SHIPPED_MODEL_PATH
from ranking.onnx_model import OnnxEngagementModel
from ranking.simulation import Session, SimulationConfig
from ranking.training.dataset import simulated_split
from ranking.weights import FEED_WEIGHTS

NDCG_AT = 10
# The hand-set linear formula the feed ranked by before the trained model (kept only as a
# baseline here): fresh posts first, engagement lifts a post, followed accounts count more.
LINEAR_FORMULA = {
    "log_age_hours": -1.0,
    "log_likes": 0.6,
    "log_comments": 0.4,
    "media_count": 0.05,
    "viewer_follows_author": 0.5,
}

FloatArray = npt.NDArray[np.float64]
# A method scores a session's window: [window] one score, or [window, heads] per head.
Method = Callable[[Session], FloatArray]


@dataclass(frozen=True, slots=True)
class MethodResult:
    name: str
    ndcg: float
    auc: tuple[float, ...]  # per head, in HEADS order


@dataclass(frozen=True, slots=True)
class Evaluation:
    sessions: int
    candidates: int
    results: tuple[MethodResult, ...]

    def result(self, name: str) -> MethodResult:
        return next(result for result in self.results if result.name == name)


def ndcg_at(scores: FloatArray, relevance: FloatArray, k: int = NDCG_AT) -> float | None:
    """NDCG@k with linear gains; None when nothing in the window is relevant. Ties in
    `scores` keep the window's order (newest first), as the ranker's sort does."""
    ideal = np.sort(relevance)[::-1][:k]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    best = float(ideal @ discounts[: len(ideal)])
    if best <= 0:
        return None
    order = np.argsort(-scores, kind="stable")[:k]
    return float(relevance[order] @ discounts[: len(order)]) / best


def auc(scores: FloatArray, labels: FloatArray) -> float:
    """The probability that a positive scores above a negative (ties count half)."""
    positives = labels > 0
    count_pos, count_neg = int(positives.sum()), int((~positives).sum())
    if count_pos == 0 or count_neg == 0:
        return float("nan")
    ranks = _average_ranks(scores)
    wins = ranks[positives].sum() - count_pos * (count_pos + 1) / 2
    return float(wins / (count_pos * count_neg))


def _average_ranks(values: FloatArray) -> FloatArray:
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    ranks = np.empty(len(values))
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2
    return ranks


def _weighted(per_head: FloatArray) -> FloatArray:
    weighted: FloatArray = per_head @ np.asarray(FEED_WEIGHTS)
    return weighted


def baseline_methods() -> dict[str, Method]:
    age = column_index("log_age_hours")
    likes, comments = column_index("log_likes"), column_index("log_comments")
    linear = np.zeros(FEATURE_COUNT)
    for name, weight in LINEAR_FORMULA.items():
        linear[column_index(name)] = weight
    return {
        "reverse chronological": lambda s: -s.features[:, age].astype(np.float64),
        "popularity": lambda s: (s.features[:, likes] + s.features[:, comments]).astype(np.float64),
        "old linear formula": lambda s: s.features.astype(np.float64) @ linear,
    }


def model_method(model: OnnxEngagementModel) -> Method:
    return lambda s: model.predict_now(s.features).astype(np.float64)


def oracle_method() -> Method:
    return lambda s: s.truth


def evaluate(sessions: Sequence[Session], methods: dict[str, Method]) -> Evaluation:
    results = []
    for name, method in methods.items():
        ndcgs: list[float] = []
        per_head_scores: list[FloatArray] = []
        for session in sessions:
            scores = method(session)
            per_head = scores if scores.ndim == 2 else np.repeat(scores[:, None], len(HEADS), 1)
            per_head_scores.append(per_head)
            value = ndcg_at(_weighted(per_head), _weighted(session.full_labels.astype(float)))
            if value is not None:
                ndcgs.append(value)
        all_scores = np.concatenate(per_head_scores)
        all_labels = np.concatenate([s.full_labels for s in sessions]).astype(np.float64)
        aucs = tuple(auc(all_scores[:, h], all_labels[:, h]) for h in range(len(HEADS)))
        results.append(MethodResult(name, float(np.mean(ndcgs)), aucs))
    return Evaluation(
        sessions=len(sessions),
        candidates=sum(len(s.posts) for s in sessions),
        results=tuple(results),
    )


def evaluate_model(config: SimulationConfig, model_path: Path = SHIPPED_MODEL_PATH) -> Evaluation:
    split = simulated_split(config)
    methods = baseline_methods()
    methods["trained model"] = model_method(OnnxEngagementModel(model_path))
    methods["oracle"] = oracle_method()
    return evaluate(split.evaluation, methods)


def report(evaluation: Evaluation) -> str:
    """A Markdown table, and the targets' ratios."""
    lines = [
        f"{evaluation.sessions} held-out sessions, {evaluation.candidates} candidates",
        "",
        "| method | NDCG@10 | " + " | ".join(f"AUC {head}" for head in HEADS) + " |",
        "|---|---|" + "---|" * len(HEADS),
    ]
    for result in evaluation.results:
        aucs = " | ".join(f"{value:.3f}" for value in result.auc)
        lines.append(f"| {result.name} | {result.ndcg:.4f} | {aucs} |")
    chron = evaluation.result("reverse chronological").ndcg
    names = {result.name for result in evaluation.results}
    if {"trained model", "oracle", "popularity"} <= names:
        model = evaluation.result("trained model").ndcg
        oracle = evaluation.result("oracle").ndcg
        popularity = evaluation.result("popularity").ndcg
        gap = (model - chron) / (oracle - chron) if oracle > chron else float("nan")
        lines += [
            "",
            f"trained / reverse chronological: {model / chron:.2f}x (target >= 1.3x)",
            f"trained - popularity: {model - popularity:+.4f} (target > 0)",
            f"gap to the oracle closed: {gap:.0%} (target >= 60%)",
        ]
    return "\n".join(lines)
