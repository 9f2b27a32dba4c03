"""The shipped model file, and the refusal of a model trained on other features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from ranking.features import FEATURE_COUNT, FEATURE_NAMES
from ranking.model import FEATURE_SCHEMA_KEY, HEADS, MODEL_VERSION_KEY
from ranking.model_file import (
    SHIPPED_MODEL_PATH,
    FeatureSchemaMismatch,
    SessionModel,
    check_metadata,
    open_session,
)


def with_schema(tmp_path: Path, names: object) -> Path:
    """A copy of the shipped model whose metadata claims `names` as its features."""
    proto = onnx.load(str(SHIPPED_MODEL_PATH))
    for entry in proto.metadata_props:
        if entry.key == FEATURE_SCHEMA_KEY:
            entry.value = json.dumps(names)
    path = tmp_path / "model.onnx"
    onnx.save(proto, str(path))
    return path


def test_the_shipped_model_has_the_codes_schema_and_a_version() -> None:
    _, info = open_session()

    assert info.feature_names == FEATURE_NAMES
    assert info.version.startswith("sim")


def test_the_shipped_model_is_small() -> None:
    assert SHIPPED_MODEL_PATH.stat().st_size < 100_000


def test_a_model_with_a_feature_more_is_refused(tmp_path: Path) -> None:
    path = with_schema(tmp_path, [*FEATURE_NAMES, "caption_length"])

    with pytest.raises(FeatureSchemaMismatch, match="caption_length"):
        open_session(path)


def test_a_model_with_the_features_in_another_order_is_refused(tmp_path: Path) -> None:
    path = with_schema(tmp_path, list(reversed(FEATURE_NAMES)))

    with pytest.raises(FeatureSchemaMismatch, match="order"):
        open_session(path)


def test_a_model_without_a_schema_is_refused() -> None:
    with pytest.raises(FeatureSchemaMismatch, match=FEATURE_SCHEMA_KEY):
        check_metadata({MODEL_VERSION_KEY: "v1"})


def test_a_schema_that_is_not_a_list_of_names_is_refused() -> None:
    with pytest.raises(FeatureSchemaMismatch):
        check_metadata({FEATURE_SCHEMA_KEY: json.dumps({"a": 1})})


def test_the_model_gives_a_probability_per_head_for_any_batch_size() -> None:
    model = SessionModel.open()
    rng = np.random.default_rng(1)

    for rows in (1, 7, 200):
        probabilities = model.run(rng.normal(size=(rows, FEATURE_COUNT)).astype(np.float32))
        assert probabilities.shape == (rows, len(HEADS))
        assert ((probabilities >= 0) & (probabilities <= 1)).all()
