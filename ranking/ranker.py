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
    def __init__(self, model: EngagementModel, model_version: str = "unknown") -> None:
        self._model = model
        self.model_version = model_version  # logged with every ranked impression

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
        return [post_ids[row] for row in await self.order(surface, post_ids, features)]

    async def order(self, surface: str, post_ids: Sequence[int], features: Features) -> list[int]:
        """The rows of `features` (and `post_ids`), best first; ties keep the newest first."""
        scores = [round(score / SCORE_QUANTUM) for score in await self.score(surface, features)]
        if len(scores) != len(post_ids):
            raise ValueError(f"{len(post_ids)} posts for {len(scores)} rows of features")
        return sorted(range(len(post_ids)), key=lambda row: (-scores[row], -post_ids[row]))
