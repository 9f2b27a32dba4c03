"""The engagement model served by Triton Inference Server, through tritonclient's asyncio
clients: one inference call per ranked window, tensors sent and received as binary.

PICTOGRAPH_TRITON_URL picks the protocol by its scheme: `grpc://host:8001` or
`http://host:8000`. Measured against the CPU Triton here (bench/ranking.py, BENCHMARKS.md)
the two are within noise of each other for one call of 50 or 200 candidates (~2.8 ms);
gRPC is a little faster at 1,000 (tensors as raw protobuf bytes, no JSON header to parse)
and serves more windows a second with 8 calls in flight, so the README recommends it. Both
stay supported: HTTP is what passes through any proxy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tritonclient.grpc.aio as grpc_client
import tritonclient.http.aio as http_client

from ranking.model import HEADS, INPUT_NAME, MODEL_NAME, OUTPUT_NAME, Features, Probabilities
from ranking.triton_endpoint import TRITON_TIMEOUT_SECONDS, TritonEndpoint, TritonProtocol


class TritonAnswerRefused(RuntimeError):
    """Triton answered with something that is not the engagement model's output."""


class TritonEngagementModel:
    def __init__(
        self,
        endpoint: TritonEndpoint,
        n_features: int,
        timeout_seconds: float = TRITON_TIMEOUT_SECONDS,
        model_name: str = MODEL_NAME,
    ) -> None:
        self.endpoint = endpoint
        self.model_name = model_name
        self._n_features = n_features
        self._timeout_seconds = timeout_seconds
        self._client: Any  # tritonclient is untyped
        if endpoint.protocol is TritonProtocol.GRPC:
            self._client = grpc_client.InferenceServerClient(endpoint.address)
        else:
            self._client = http_client.InferenceServerClient(
                endpoint.address, conn_timeout=timeout_seconds
            )

    async def predict(self, features: Features) -> Probabilities:
        """One inference call for the whole window."""
        if features.ndim != 2 or features.shape[1] != self._n_features:
            raise ValueError(f"features {features.shape} are not [batch, {self._n_features}]")
        features = np.ascontiguousarray(features, dtype=np.float32)
        if self.endpoint.protocol is TritonProtocol.GRPC:
            tensor = grpc_client.InferInput(INPUT_NAME, list(features.shape), "FP32")
            tensor.set_data_from_numpy(features)  # gRPC always sends raw bytes
            result = await self._client.infer(
                self.model_name,
                [tensor],
                outputs=[grpc_client.InferRequestedOutput(OUTPUT_NAME)],
                client_timeout=self._timeout_seconds,
            )
        else:
            tensor = http_client.InferInput(INPUT_NAME, list(features.shape), "FP32")
            tensor.set_data_from_numpy(features, binary_data=True)
            result = await self._client.infer(
                self.model_name,
                [tensor],
                outputs=[http_client.InferRequestedOutput(OUTPUT_NAME, binary_data=True)],
            )
        probabilities = result.as_numpy(OUTPUT_NAME)
        if probabilities is None or probabilities.shape != (len(features), len(HEADS)):
            shape = None if probabilities is None else probabilities.shape
            raise TritonAnswerRefused(f"{self.model_name} answered {shape} for {features.shape}")
        answer: Probabilities = probabilities.astype(np.float32, copy=False)
        return answer

    async def ready(self) -> bool:
        """Triton is up and has the model loaded."""
        return bool(await self._client.is_model_ready(self.model_name))

    async def close(self) -> None:
        await self._client.close()
