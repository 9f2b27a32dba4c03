"""Ranking candidates: one call scores a whole window of them.

`InProcessRanker` evaluates a fixed linear model in the process; it is the only ranker until
a trained model served by Triton lands (the ranking issue), when it becomes the fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ranking.features import FEATURE_NAMES, Candidate

# A linear model over the features, weights in FEATURE_NAMES order: fresh posts first,
# engagement lifts a post, accounts the viewer follows count more. Hand-set, not trained.
FALLBACK_WEIGHTS = (0.0, -1.0, 0.6, 0.4, 0.05, 0.5)
assert len(FALLBACK_WEIGHTS) == len(FEATURE_NAMES)


class Ranker(Protocol):
    async def score(self, candidates: Sequence[Candidate]) -> list[float]: ...


class InProcessRanker:
    def __init__(self, weights: Sequence[float] = FALLBACK_WEIGHTS) -> None:
        self._weights = tuple(weights)

    async def score(self, candidates: Sequence[Candidate]) -> list[float]:
        return [
            sum(w * x for w, x in zip(self._weights, candidate.vector(), strict=True))
            for candidate in candidates
        ]


async def rank(ranker: Ranker, candidates: Sequence[Candidate]) -> list[int]:
    """Post ids, best first; ties keep the newest first."""
    scores = await ranker.score(candidates)
    order = sorted(
        zip(candidates, scores, strict=True), key=lambda pair: (-pair[1], -pair[0].post_id)
    )
    return [candidate.post_id for candidate, _ in order]
