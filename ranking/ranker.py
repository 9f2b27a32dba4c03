"""Ranking a window of candidates: one model call scores all of them, and the surface's
head weights (ranking/weights.py) turn each candidate's head probabilities into its score.

The model is any EngagementModel: Triton, or the same ONNX file evaluated in process.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ranking.model import HEADS, EngagementModel, Features
from ranking.weights import surface_scores


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
        scores = await self.score(surface, features)
        order = sorted(zip(post_ids, scores, strict=True), key=lambda pair: (-pair[1], -pair[0]))
        return [post_id for post_id, _ in order]
