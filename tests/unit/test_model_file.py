"""The shipped model file, and one check, used in process, behind Triton and by the
evaluation, that refuses a model whose feature schema or tensors are not the code's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ranking.features import FEATURE_COUNT, FEATURE_NAMES
from ranking.model import FEATURE_SCHEMA_KEY, HEADS, MODEL_VERSION_KEY
from ranking.model_file import SHIPPED_MODEL_PATH, ModelFileRefused, check_metadata, open_model_file
from ranking.onnx_model import OnnxEngagementModel
from tests.model_files import engagement_model, save, with_schema


def test_the_shipped_model_has_the_codes_schema_and_a_trained_version() -> None:
    _, model = open_model_file(SHIPPED_MODEL_PATH)

    assert model.feature_names == FEATURE_NAMES
    assert model.version.startswith("sim")


def test_the_shipped_model_is_small() -> None:
    assert SHIPPED_MODEL_PATH.stat().st_size < 100_000


def test_a_model_with_a_feature_more_is_refused(tmp_path: Path) -> None:
    path = with_schema([*FEATURE_NAMES, "caption_length"], tmp_path / "model.onnx")

    with pytest.raises(ModelFileRefused, match=r"unknown \['caption_length'\]"):
        open_model_file(path)


def test_a_model_with_the_features_in_another_order_is_refused(tmp_path: Path) -> None:
    path = with_schema(list(reversed(FEATURE_NAMES)), tmp_path / "model.onnx")

    with pytest.raises(ModelFileRefused, match="another order"):
        open_model_file(path)


def test_a_model_without_a_feature_schema_is_refused(tmp_path: Path) -> None:
    path = with_schema(None, tmp_path / "model.onnx")

    with pytest.raises(ModelFileRefused, match=f"no {FEATURE_SCHEMA_KEY!r}"):
        open_model_file(path)


def test_a_schema_that_is_not_a_list_of_names_is_refused() -> None:
    metadata = {FEATURE_SCHEMA_KEY: json.dumps({"a": 1}), MODEL_VERSION_KEY: "v1"}

    with pytest.raises(ModelFileRefused, match="not a list of names"):
        check_metadata(Path("model.onnx"), metadata)


def test_a_model_whose_schema_disagrees_with_its_input_width_is_refused(tmp_path: Path) -> None:
    model = engagement_model(FEATURE_NAMES, input_width=FEATURE_COUNT + 1)
    path = save(model, tmp_path / "model.onnx")

    with pytest.raises(ModelFileRefused, match="not the engagement interface"):
        open_model_file(path)


def test_the_model_gives_a_probability_per_head_for_any_batch_size() -> None:
    model = OnnxEngagementModel(SHIPPED_MODEL_PATH)
    random = np.random.default_rng(1)

    for rows in (0, 1, 7, 200):
        probabilities = model.predict_now(
            random.normal(size=(rows, FEATURE_COUNT)).astype(np.float32)
        )
        assert probabilities.shape == (rows, len(HEADS))
        assert ((probabilities >= 0) & (probabilities <= 1)).all()
