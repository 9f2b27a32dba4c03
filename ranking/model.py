"""The engagement model's interface: what training (`pictograph train-ranker`) exports and
what serving (Triton, or onnxruntime in process) evaluates.

One multi-task network: for each (viewer, candidate) feature vector it predicts the
probability of each head. The surfaces (feed, Explore, reels) weigh the heads differently;
the weights live beside the ranker, not in the model, so they change without retraining.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

MODEL_NAME = "engagement"  # the Triton model's name and its folder in ranking/model_repository
INPUT_NAME = "features"  # FP32 [batch, number of features], in ranking/features.py's order
OUTPUT_NAME = "engagement"  # FP32 [batch, len(HEADS)]: a probability per head
# "long_view" is a long dwell on a post; on reels the same head learns "finished watching".
HEADS = ("like", "comment", "share", "long_view")
# Keys of the ONNX file's metadata_props: serving refuses a model whose schema differs.
FEATURE_SCHEMA_KEY = "feature_schema"  # JSON list of the feature names, in input order
MODEL_VERSION_KEY = "model_version"

Features = npt.NDArray[np.float32]  # [batch, number of features]
Probabilities = npt.NDArray[np.float32]  # [batch, len(HEADS)]


class EngagementModel(Protocol):
    """Scores a whole candidate window in one call."""

    async def predict(self, features: Features) -> Probabilities: ...
