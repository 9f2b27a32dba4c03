"""The Triton model repository that ships: config.pbtxt declares the tensors of the ONNX file
beside it, and is exactly what write_config makes from that file."""

from __future__ import annotations

from pathlib import Path

from ranking.features import FEATURE_COUNT
from ranking.model import MODEL_NAME
from ranking.model_file import SHIPPED_MODEL_PATH
from ranking.model_repository import (
    config_path,
    onnx_interface,
    read_config,
    render_config,
    write_config,
    write_model,
)
from tests.model_files import engagement_model, save


def test_the_shipped_config_declares_the_onnx_files_inputs_and_outputs() -> None:
    name, declared = read_config(config_path(SHIPPED_MODEL_PATH))

    assert name == MODEL_NAME
    assert declared == onnx_interface(SHIPPED_MODEL_PATH)
    assert declared.inputs[0].dims == (FEATURE_COUNT,)


def test_the_shipped_config_is_what_write_config_makes_from_the_onnx_file() -> None:
    committed = config_path(SHIPPED_MODEL_PATH).read_text()

    assert committed == render_config(MODEL_NAME, onnx_interface(SHIPPED_MODEL_PATH))


def test_write_config_follows_the_feature_count_of_a_retrained_model(tmp_path: Path) -> None:
    features = [f"feature_{index}" for index in range(11)]
    model_path = save(engagement_model(features), tmp_path / MODEL_NAME / "1" / "model.onnx")

    written = write_config(model_path)

    name, declared = read_config(written)
    assert written == tmp_path / MODEL_NAME / "config.pbtxt"
    assert name == MODEL_NAME
    assert declared.inputs[0].dims == (11,)
    assert declared == onnx_interface(model_path)


def test_an_export_into_a_model_repository_writes_the_config_beside_the_file(
    tmp_path: Path,
) -> None:
    features = [f"feature_{index}" for index in range(5)]
    model_path = tmp_path / MODEL_NAME / "1" / "model.onnx"

    written = write_model(engagement_model(features).SerializeToString(), model_path)

    assert written == tmp_path / MODEL_NAME / "config.pbtxt"
    assert read_config(written) == (MODEL_NAME, onnx_interface(model_path))


def test_an_export_outside_a_model_repository_writes_the_file_alone(tmp_path: Path) -> None:
    model_path = tmp_path / "candidate.onnx"

    written = write_model(engagement_model().SerializeToString(), model_path)

    assert written is None
    assert [path.name for path in tmp_path.iterdir()] == ["candidate.onnx"]
