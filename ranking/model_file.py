"""Opening the trained model file, refusing one whose feature schema is not the code's.

Both serving paths use it: the in-process fallback opens the file with `open_session`, and
the Triton path checks the file it points Triton at with `check_model_file` before use. A
model trained on other features (another order, one more, one renamed) would score garbage
without an error, so the schema in its metadata must equal FEATURE_NAMES exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime

from ranking.features import FEATURE_NAMES
from ranking.model import (
    FEATURE_SCHEMA_KEY,
    HEADS,
    INPUT_NAME,
    MODEL_NAME,
    MODEL_VERSION_KEY,
    OUTPUT_NAME,
    Features,
    Probabilities,
)

# The trained model that ships in the repository, where Triton's model repository has it.
MODEL_REPOSITORY = Path(__file__).parent / "model_repository"
SHIPPED_MODEL_PATH = MODEL_REPOSITORY / MODEL_NAME / "1" / "model.onnx"


class FeatureSchemaMismatch(ValueError):
    """The model was trained on other features than the code computes."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    version: str
    feature_names: tuple[str, ...]


def check_metadata(
    metadata: Mapping[str, str], expected: Sequence[str] = FEATURE_NAMES
) -> ModelInfo:
    """The model's version and schema; FeatureSchemaMismatch unless the schema is `expected`."""
    raw = metadata.get(FEATURE_SCHEMA_KEY)
    if raw is None:
        raise FeatureSchemaMismatch(f"the model has no {FEATURE_SCHEMA_KEY!r} metadata")
    try:
        names = json.loads(raw)
    except json.JSONDecodeError as error:
        raise FeatureSchemaMismatch(f"{FEATURE_SCHEMA_KEY!r} is not JSON: {error}") from None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise FeatureSchemaMismatch(f"{FEATURE_SCHEMA_KEY!r} is not a list of feature names")
    if tuple(names) != tuple(expected):
        missing = [name for name in expected if name not in names]
        extra = [name for name in names if name not in expected]
        raise FeatureSchemaMismatch(
            f"the model's features differ from the code's (missing {missing}, extra {extra}, "
            f"or another order): retrain with `pictograph train-ranker`"
        )
    return ModelInfo(version=metadata.get(MODEL_VERSION_KEY, "unknown"), feature_names=tuple(names))


def open_session(
    path: Path = SHIPPED_MODEL_PATH, *, threads: int = 1
) -> tuple[onnxruntime.InferenceSession, ModelInfo]:
    """An onnxruntime session of the model file, refused (FeatureSchemaMismatch) when its
    schema is not the code's. One thread: a window is a few hundred rows, and the server's
    event loop is the parallelism."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    info = check_metadata(session.get_modelmeta().custom_metadata_map)
    return session, info


def check_model_file(path: Path = SHIPPED_MODEL_PATH) -> ModelInfo:
    """The file's schema check alone (for a model another process, Triton, will serve)."""
    return open_session(path)[1]


class SessionModel:
    """The model evaluated in process by onnxruntime: an EngagementModel.

    Minimal on purpose: the serving side (ranking/onnx_model.py, with its counters and the
    Triton client's fallback) wraps the same session; this one serves the evaluation and
    the app until that lands."""

    def __init__(self, session: onnxruntime.InferenceSession, info: ModelInfo) -> None:
        self._session = session
        self.info = info

    @classmethod
    def open(cls, path: Path = SHIPPED_MODEL_PATH) -> SessionModel:
        return cls(*open_session(path))

    def run(self, features: Features) -> Probabilities:
        if len(features) == 0:
            return np.zeros((0, len(HEADS)), dtype=np.float32)
        (output,) = self._session.run([OUTPUT_NAME], {INPUT_NAME: features.astype(np.float32)})
        return np.asarray(output, dtype=np.float32)

    async def predict(self, features: Features) -> Probabilities:
        # A window of 200 rows runs in tens of microseconds: no thread hop is worth it.
        return self.run(features)
