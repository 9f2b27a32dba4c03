"""Opening the engagement model's ONNX file, for every path that serves or evaluates it: in
process (ranking/onnx_model.py), behind Triton (`pictograph triton` opens the file it serves
here), and the offline evaluation. A file whose feature schema differs from the code's is
refused here, before it scores anything.

The feature schema is the JSON list of feature names in the file's metadata, written by the
export (`pictograph train-ranker`); the features matrix the code builds
(ranking/features.py) must be in that order, or the model would read one feature as
another (another order, one more, one renamed) and rank nonsense without any error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import onnxruntime

from ranking.features import FEATURE_NAMES
from ranking.model import (
    FEATURE_SCHEMA_KEY,
    HEADS,
    INPUT_NAME,
    MODEL_NAME,
    MODEL_VERSION_KEY,
    OUTPUT_NAME,
)

# The trained model that ships in the repository, where Triton's model repository has it.
MODEL_REPOSITORY = Path(__file__).parent / "model_repository"
SHIPPED_MODEL_PATH = MODEL_REPOSITORY / MODEL_NAME / "1" / "model.onnx"
# A window is a few hundred rows of a small MLP: tens of microseconds on one thread. More
# threads cost more in hand-offs than they save, and would compete with the event loop.
SESSION_THREADS = 1


class ModelFileRefused(ValueError):
    """The file is not an engagement model this code can feed: trained on other features,
    or with other tensors than the interface's."""


@dataclass(frozen=True, slots=True)
class ModelFile:
    path: Path
    feature_names: tuple[str, ...]
    version: str

    @property
    def n_features(self) -> int:
        return len(self.feature_names)


def open_model_file(
    path: Path = SHIPPED_MODEL_PATH, expected_features: Sequence[str] = FEATURE_NAMES
) -> tuple[onnxruntime.InferenceSession, ModelFile]:
    """An onnxruntime session on `path` and what its metadata says; ModelFileRefused when
    its feature schema is not `expected_features` or its tensors are not the interface's."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = SESSION_THREADS
    options.inter_op_num_threads = SESSION_THREADS
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    model = check_metadata(path, session.get_modelmeta().custom_metadata_map, expected_features)
    _check_tensors(session, model)
    return session, model


def check_metadata(
    path: Path, metadata: Mapping[str, str], expected_features: Sequence[str] = FEATURE_NAMES
) -> ModelFile:
    """The file's schema and version; ModelFileRefused unless the schema is
    `expected_features`, in order."""
    model = ModelFile(
        path, _feature_schema(path, metadata), metadata.get(MODEL_VERSION_KEY, "unknown")
    )
    expected = tuple(expected_features)
    if model.feature_names == expected:
        return model
    missing = [name for name in expected if name not in model.feature_names]
    unknown = [name for name in model.feature_names if name not in expected]
    detail = f"missing {missing}, unknown {unknown}" if missing or unknown else "another order"
    raise ModelFileRefused(
        f"{path} (version {model.version}) was trained on other features than the code "
        f"computes ({detail}): retrain it with `pictograph train-ranker`"
    )


def _feature_schema(path: Path, metadata: Mapping[str, str]) -> tuple[str, ...]:
    if FEATURE_SCHEMA_KEY not in metadata:
        raise ModelFileRefused(f"{path} has no {FEATURE_SCHEMA_KEY!r} in its metadata")
    try:
        names = json.loads(metadata[FEATURE_SCHEMA_KEY])
    except json.JSONDecodeError as error:
        raise ModelFileRefused(f"{path}'s {FEATURE_SCHEMA_KEY!r} is not JSON: {error}") from None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ModelFileRefused(f"{path}'s {FEATURE_SCHEMA_KEY!r} is not a list of names")
    return tuple(names)


def _check_tensors(session: onnxruntime.InferenceSession, model: ModelFile) -> None:
    """A schema of n names over an input of another width is a broken export."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    expected = (
        [(INPUT_NAME, "tensor(float)", model.n_features)],
        [(OUTPUT_NAME, "tensor(float)", len(HEADS))],
    )
    found = (
        [(tensor.name, tensor.type, tensor.shape[-1]) for tensor in inputs],
        [(tensor.name, tensor.type, tensor.shape[-1]) for tensor in outputs],
    )
    if found != expected or any(len(tensor.shape) != 2 for tensor in [*inputs, *outputs]):
        raise ModelFileRefused(
            f"{model.path} takes and gives {found}, not the engagement interface's {expected}"
        )
