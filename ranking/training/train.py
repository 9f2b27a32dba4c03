"""Training the engagement model (`pictograph train-ranker`): a shared MLP trunk with one
sigmoid head per engagement, as Instagram describes its feed and reels models, trained on
simulated impressions (the default) or on the app's own interaction log (`--source
mongodb`, ranking/training/labels.py), and exported to ONNX with its feature schema and
version.

A log does not observe every head (no shares, no long views yet): those heads are masked
out of the loss, and exported as a constant probability (their weights zeroed), as an
untrained head would otherwise add noise to every score (long view weighs 10 on the feed).

Needs the `train` extra (PyTorch from the CPU wheel, onnx). Deterministic: one seed fixes
the data, the initial weights and the batch order, and PyTorch runs deterministic kernels.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import torch
from torch import nn

from ranking.features import FEATURE_COUNT, FEATURE_NAMES
from ranking.model import FEATURE_SCHEMA_KEY, HEADS, INPUT_NAME, MODEL_VERSION_KEY, OUTPUT_NAME
from ranking.model_file import SHIPPED_MODEL_PATH
from ranking.model_repository import write_model
from ranking.simulation import SimulationConfig
from ranking.training.dataset import simulated_split
from ranking.training.labels import LoggedSet

HIDDEN = (64, 32)  # the shared trunk: small enough to ship in kilobytes and score in µs
EPOCHS = 8
BATCH = 512
LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-5
THREADS = 2  # the machines that train it have two cores
ONNX_OPSET = 17
# What a head the data does not observe predicts: sigmoid(-20) ~ 2e-9, i.e. "never", the
# same for every candidate, so it adds nothing to any score's order.
UNOBSERVED_HEAD_LOGIT = -20.0


@dataclass(frozen=True, slots=True)
class TrainingResult:
    path: Path
    version: str
    triton_config: Path | None  # the Triton config written beside it, in a model repository
    rows: int
    final_loss: float
    size_bytes: int


class EngagementNet(nn.Module):
    """Raw features in, probabilities out: standardisation is part of the model, so every
    serving path feeds it FEATURE_NAMES' raw values."""

    def __init__(self, mean: npt.NDArray[np.float32], std: npt.NDArray[np.float32]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(mean))
        self.register_buffer("std", torch.from_numpy(std))
        layers: list[nn.Module] = []
        width = FEATURE_COUNT
        for size in HIDDEN:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.trunk = nn.Sequential(*layers)
        self.heads = nn.Linear(width, len(HEADS))  # one logit per head, over the shared trunk

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        mean, std = self.get_buffer("mean"), self.get_buffer("std")
        result: torch.Tensor = self.heads(self.trunk((features - mean) / std))
        return result

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(features))


def train(
    config: SimulationConfig, output: Path = SHIPPED_MODEL_PATH, *, epochs: int = EPOCHS
) -> TrainingResult:
    split = simulated_split(config)
    model, loss_value = fit(split.train_features, split.train_labels, config.seed, epochs=epochs)
    version = _version(model, f"sim{config.seed}")
    data = export_onnx(model, version)
    triton_config = write_model(data, output)
    return TrainingResult(output, version, triton_config, split.train_rows, loss_value, len(data))


def train_from_log(
    logged: LoggedSet, output: Path, *, seed: int, epochs: int = EPOCHS
) -> TrainingResult:
    """Train on the interaction log's labelled impressions (the heads it does not observe
    masked out of the loss and pinned), and export as `train` does."""
    model, loss_value = fit(
        logged.features, logged.labels, seed, epochs=epochs, observed_heads=logged.observed_heads
    )
    version = _version(model, "log")
    data = export_onnx(model, version)
    triton_config = write_model(data, output)
    return TrainingResult(output, version, triton_config, logged.rows, loss_value, len(data))


def fit(
    train_features: npt.NDArray[np.float32],
    train_labels: npt.NDArray[np.float32],
    seed: int,
    *,
    epochs: int = EPOCHS,
    observed_heads: tuple[str, ...] = HEADS,
) -> tuple[EngagementNet, float]:
    """The trained network and its last epoch's mean loss (over the observed heads; the
    others are left out of the loss and pinned to UNOBSERVED_HEAD_LOGIT)."""
    observed = [HEADS.index(head) for head in observed_heads]
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(THREADS)
    features = torch.from_numpy(train_features)
    labels = torch.from_numpy(train_labels)
    mean = train_features.mean(axis=0)
    std = np.maximum(train_features.std(axis=0), 1e-3).astype(np.float32)
    model = EngagementNet(mean.astype(np.float32), std)
    optimiser = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(seed)
    loss_value = float("nan")
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(features), generator=generator)
        total, batches = 0.0, 0
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            optimiser.zero_grad()
            logits, targets = model.logits(features[batch]), labels[batch]
            if len(observed) < len(HEADS):
                logits, targets = logits[:, observed], targets[:, observed]
            loss = loss_fn(logits, targets)
            loss.backward()
            optimiser.step()
            total, batches = total + float(loss.detach()), batches + 1
        loss_value = total / batches
    model.eval()
    with torch.no_grad():
        for head in set(range(len(HEADS))) - set(observed):
            model.heads.weight[head].zero_()
            model.heads.bias[head].fill_(UNOBSERVED_HEAD_LOGIT)
    return model, loss_value


def _version(model: EngagementNet, source: str) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().numpy().tobytes())
    return f"{source}-{digest.hexdigest()[:12]}"


def export_onnx(model: EngagementNet, version: str) -> bytes:
    """The model as ONNX: FP32 [batch, FEATURE_COUNT] in, [batch, len(HEADS)] out, the
    batch dimension dynamic, the schema and version in metadata_props."""
    example = torch.zeros((2, FEATURE_COUNT), dtype=torch.float32)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
        proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in (
        (FEATURE_SCHEMA_KEY, json.dumps(list(FEATURE_NAMES))),
        (MODEL_VERSION_KEY, version),
    ):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "pictograph train-ranker"
    onnx.checker.check_model(proto)
    data: bytes = proto.SerializeToString()
    return data
