"""`pictograph triton` serves the model under config.pbtxt's name and tensors, and refuses a
config that disagrees with the file before it starts Triton."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ranking.features import FEATURE_COUNT
from ranking.model import HEADS, INPUT_NAME, MODEL_NAME, OUTPUT_NAME
from ranking.model_file import SHIPPED_MODEL_PATH, open_model_file
from ranking.model_repository import write_config
from ranking.triton_server import served_tensors
from tests.model_files import engagement_model, save


def test_the_trained_model_is_served_under_the_shipped_configs_name_and_tensors() -> None:
    _, model_file = open_model_file(SHIPPED_MODEL_PATH)

    name, model_input, model_output = served_tensors(model_file)

    assert name == MODEL_NAME
    assert (model_input.name, model_input.dims) == (INPUT_NAME, (FEATURE_COUNT,))
    assert (model_output.name, model_output.dims) == (OUTPUT_NAME, (len(HEADS),))


def test_a_config_written_for_another_feature_count_is_refused(tmp_path: Path) -> None:
    model_path = tmp_path / MODEL_NAME / "1" / "model.onnx"
    save(engagement_model([f"feature_{index}" for index in range(11)]), model_path)
    write_config(model_path)  # a config for 11 features...
    shutil.copyfile(SHIPPED_MODEL_PATH, model_path)  # ...beside the trained 17-feature file
    _, model_file = open_model_file(model_path)

    with pytest.raises(ValueError, match=r"declares \(11,\) features, the file has 17"):
        served_tensors(model_file)
