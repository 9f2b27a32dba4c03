"""Engagement model files made for tests, with the served interface (ranking/model.py) and
whatever feature schema or width a test needs: `with_schema` edits a copy of the shipped
(trained) model's metadata; `engagement_model` builds a small random MLP of any width, for
what an edited copy cannot be (a model retrained on another number of features)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ranking.features import FEATURE_NAMES
from ranking.model import FEATURE_SCHEMA_KEY, HEADS, INPUT_NAME, MODEL_VERSION_KEY, OUTPUT_NAME
from ranking.model_file import SHIPPED_MODEL_PATH

HIDDEN_UNITS = 8
# onnxruntime 1.20 (the oldest our pyproject allows) reads IR 10 / opset 21 at most.
IR_VERSION = 10
OPSET = 17


def with_schema(names: object, path: Path, source: Path = SHIPPED_MODEL_PATH) -> Path:
    """A copy of the shipped model at `path` whose metadata claims `names` as its features
    (None: no schema at all)."""
    proto = onnx.load(str(source))
    kept = [entry for entry in proto.metadata_props if entry.key != FEATURE_SCHEMA_KEY]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    if names is not None:
        entry = proto.metadata_props.add()
        entry.key, entry.value = FEATURE_SCHEMA_KEY, json.dumps(names)
    return save(proto, path)


def engagement_model(
    feature_names: Sequence[str] = FEATURE_NAMES,
    *,
    input_width: int | None = None,
    seed: int = 0,
) -> onnx.ModelProto:
    """features [batch, input_width] -> Gemm -> Relu -> Gemm -> Sigmoid -> [batch, 4], its
    schema `feature_names` (the input as wide as the schema unless `input_width` says)."""
    random = np.random.default_rng(seed)
    width = len(feature_names) if input_width is None else input_width
    weights = {
        "w1": random.normal(0, 1 / np.sqrt(width), (width, HIDDEN_UNITS)),
        "b1": random.normal(0, 0.1, (HIDDEN_UNITS,)),
        "w2": random.normal(0, 1, (HIDDEN_UNITS, len(HEADS))),
        "b2": np.zeros(len(HEADS)),
    }
    initializers = [
        numpy_helper.from_array(value.astype(np.float32), name) for name, value in weights.items()
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", [INPUT_NAME, "w1", "b1"], ["hidden"]),
            helper.make_node("Relu", ["hidden"], ["activated"]),
            helper.make_node("Gemm", ["activated", "w2", "b2"], ["logits"]),
            helper.make_node("Sigmoid", ["logits"], [OUTPUT_NAME]),
        ],
        "engagement",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", width])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", len(HEADS)])],
        initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION
    )
    helper.set_model_props(
        model, {FEATURE_SCHEMA_KEY: json.dumps(list(feature_names)), MODEL_VERSION_KEY: "test"}
    )
    onnx.checker.check_model(model)
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
