"""Ranking a window of candidates: one model call scores all of them, and the surface's
head weights (ranking/weights.py) turn each candidate's head probabilities into its score.

The model is any EngagementModel: Triton, or the same ONNX file evaluated in process.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ranking.model import HEADS, EngagementModel, Features
from ranking.weights import surface_scores

# Scores closer than this are the model's numerical noise, not a preference (posts alike but
# for a few milliseconds of age score ~1e-6 apart, in no particular order): they tie, and
# ties go newest first, which also keeps a ranked cursor's newest-first fallback complete.
SCORE_QUANTUM = 1e-3


class RankerError(RuntimeError):
    """The model answered something that is not a probability per head and candidate."""


class Ranker:
    def __init__(self, model: EngagementModel) -> None:
        self._model = model

    async def score(self, surface: str, features: Features) -> list[float]:
        """Each candidate's score on the surface, in the features' row order."""
        if len(features) == 0:
            return []
        probabilities = await self._model.predict(features)
        if np.shape(probabilities) != (len(features), len(HEADS)):
            raise RankerError(
                f"the model returned {np.shape(probabilities)} for {len(features)} candidates"
            )
        return [float(score) for score in surface_scores(surface, probabilities)]

    async def rank(self, surface: str, post_ids: Sequence[int], features: Features) -> list[int]:
        """Post ids, best first; ties keep the newest first."""
        scores = [round(score / SCORE_QUANTUM) for score in await self.score(surface, features)]
        order = sorted(zip(post_ids, scores, strict=True), key=lambda pair: (-pair[1], -pair[0]))
        return [post_id for post_id, _ in order]
