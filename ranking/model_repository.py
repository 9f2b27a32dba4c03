"""The Triton model repository that ships in the repo (ranking/model_repository/), ready for
`tritonserver --model-repository ranking/model_repository`: the engagement model's ONNX file
and the config.pbtxt that tells Triton's ONNX Runtime backend its tensors.

The config is written from the ONNX file (`write_config`), never by hand: the number of
features changes when the model is retrained, and a config that disagrees with its file
makes Triton refuse to load the model. The export (`pictograph train-ranker`) calls
`write_config` after writing the file; a test checks that the committed pair agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import onnxruntime
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from ranking.model_file import SHIPPED_MODEL_PATH

CONFIG_FILE = "config.pbtxt"
MODEL_FILE = "model.onnx"  # the ONNX Runtime backend's default file name in a version folder
# Dynamic batching merges concurrent requests along the batch dimension, so the bound must
# hold several windows at once: the largest ranked window is 1,000 candidates (reels, and
# the benchmarks), and a request above the bound is refused outright.
MAX_BATCH_SIZE = 8_192
# How long Triton holds a request for others to batch with. Ranking is on a page's critical
# path: wait at most a tenth of a millisecond, a few percent of one call's time.
MAX_QUEUE_DELAY_MICROSECONDS = 100
_Tensor = TypeVar("_Tensor", model_config_pb2.ModelInput, model_config_pb2.ModelOutput)
# Triton's names for the ONNX element types the engagement interface uses (FP32 only).
TRITON_DATA_TYPES = {"tensor(float)": "TYPE_FP32"}


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One tensor as config.pbtxt declares it: dims without the batch dimension."""

    name: str
    data_type: str  # Triton's name: TYPE_FP32
    dims: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ModelInterface:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


def config_path(model_path: Path) -> Path:
    """<repository>/<model>/config.pbtxt for <repository>/<model>/<version>/model.onnx."""
    return model_path.parent.parent / CONFIG_FILE


def onnx_interface(model_path: Path) -> ModelInterface:
    """The tensors of the ONNX file, whose first dimension is the (dynamic) batch."""
    session = onnxruntime.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])

    def spec(tensor: onnxruntime.NodeArg) -> TensorSpec:
        if tensor.type not in TRITON_DATA_TYPES:
            raise ValueError(f"{model_path}: {tensor.name} is {tensor.type}, not FP32")
        batch, *dims = tensor.shape
        if isinstance(batch, int) or not all(isinstance(dim, int) for dim in dims):
            raise ValueError(f"{model_path}: {tensor.name} {tensor.shape} is not [batch, fixed]")
        return TensorSpec(tensor.name, TRITON_DATA_TYPES[tensor.type], tuple(dims))

    return ModelInterface(
        inputs=tuple(spec(tensor) for tensor in session.get_inputs()),
        outputs=tuple(spec(tensor) for tensor in session.get_outputs()),
    )


def render_config(name: str, interface: ModelInterface) -> str:
    config = model_config_pb2.ModelConfig(
        name=name,
        backend="onnxruntime",
        max_batch_size=MAX_BATCH_SIZE,
        input=[_tensor(model_config_pb2.ModelInput, spec) for spec in interface.inputs],
        output=[_tensor(model_config_pb2.ModelOutput, spec) for spec in interface.outputs],
        dynamic_batching=model_config_pb2.ModelDynamicBatching(
            max_queue_delay_microseconds=MAX_QUEUE_DELAY_MICROSECONDS
        ),
    )
    header = (
        "# Written by ranking.model_repository.write_config from the model's ONNX file:\n"
        "# regenerate it, do not edit it. No instance_group: Triton places the model on\n"
        "# every GPU it has, or on the CPU where it has none.\n"
    )
    body: str = text_format.MessageToString(config)
    return header + body


def write_model(data: bytes, model_path: Path = SHIPPED_MODEL_PATH) -> Path | None:
    """Write an exported ONNX file and, where the path is a model repository's
    (<repository>/<model>/<version>/model.onnx), its config.pbtxt: the config written by
    hand beside a retrained file is how the two would drift. The config's path, or None."""
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_bytes(data)
    if model_path.name != MODEL_FILE or not model_path.parent.name.isdigit():
        return None
    return write_config(model_path)


def write_config(model_path: Path = SHIPPED_MODEL_PATH) -> Path:
    """Write config.pbtxt beside the model's version folder from the ONNX file."""
    target = config_path(model_path)
    name = model_path.parent.parent.name
    target.write_text(render_config(name, onnx_interface(model_path)))
    return target


def read_config(path: Path) -> tuple[str, ModelInterface]:
    """The model's name and tensors as a config.pbtxt declares them."""
    config = text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())

    def spec(tensor: model_config_pb2.ModelInput | model_config_pb2.ModelOutput) -> TensorSpec:
        return TensorSpec(
            tensor.name, model_config_pb2.DataType.Name(tensor.data_type), tuple(tensor.dims)
        )

    interface = ModelInterface(
        inputs=tuple(spec(tensor) for tensor in config.input),
        outputs=tuple(spec(tensor) for tensor in config.output),
    )
    return config.name, interface


def _tensor(kind: type[_Tensor], spec: TensorSpec) -> _Tensor:
    return kind(name=spec.name, data_type=spec.data_type, dims=list(spec.dims))
