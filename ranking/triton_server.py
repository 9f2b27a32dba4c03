"""A Triton Inference Server on the CPU, from the `nvidia-pytriton` wheel, serving the
engagement model under the name, inputs and outputs of the repository's config.pbtxt: what
the tests run as their real Triton, and `pictograph triton` runs for local use.

The wheel's Triton has only the Python backend, not ONNX Runtime's: pytriton binds a Python
function, which runs onnxruntime on the same ONNX file, opened through the same schema check
as the in-process model. On a GPU machine, run the real `tritonserver --model-repository
ranking/model_repository` instead (see the README).
"""

from __future__ import annotations

import logging
import os
import sysconfig
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pytriton.decorators import batch
from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor
from pytriton.triton import (
    DEFAULT_PROTECTED_ENDPOINTS,
    Triton,
    TritonConfig,
    TritonSecurityConfig,
)

from ranking.model import INPUT_NAME, OUTPUT_NAME
from ranking.model_file import SHIPPED_MODEL_PATH, ModelFile, open_model_file
from ranking.model_repository import (
    MAX_BATCH_SIZE,
    MAX_QUEUE_DELAY_MICROSECONDS,
    TensorSpec,
    config_path,
    read_config,
)
from ranking.triton_endpoint import LOCAL_GRPC_PORT, LOCAL_HTTP_PORT, LOCAL_METRICS_PORT

logger = logging.getLogger(__name__)

NUMPY_TYPES = {"TYPE_FP32": np.float32}


def python_library_path() -> str:
    """LD_LIBRARY_PATH for the Triton process, this Python's library folder first: the
    wheel's Python-backend stub links libpython3.x.so, and under a pyenv Python the system's
    copy mismatches the standard library the stub then imports."""
    library = str(sysconfig.get_config_var("LIBDIR"))
    inherited = os.environ.get("LD_LIBRARY_PATH")
    return library if not inherited else f"{library}:{inherited}"


def served_tensors(model_file: ModelFile) -> tuple[str, TensorSpec, TensorSpec]:
    """The model's name, input and output as the config.pbtxt beside the file declares them;
    ValueError when the config's feature count is not the file's (a stale config, which the
    real Triton would refuse to load too)."""
    path = config_path(model_file.path)
    name, interface = read_config(path)
    (model_input,) = interface.inputs
    (model_output,) = interface.outputs
    if model_input.dims != (model_file.n_features,):
        raise ValueError(
            f"{path} declares {model_input.dims} features, the file has "
            f"{model_file.n_features}: regenerate it (ranking.model_repository.write_config)"
        )
    return name, model_input, model_output


def serve_triton(
    model_path: Path = SHIPPED_MODEL_PATH,
    *,
    http_port: int = LOCAL_HTTP_PORT,
    grpc_port: int = LOCAL_GRPC_PORT,
    metrics_port: int = LOCAL_METRICS_PORT,
) -> None:
    """Serve until interrupted (SIGINT or SIGTERM)."""
    session, model_file = open_model_file(model_path)
    name, model_input, model_output = served_tensors(model_file)

    @batch  # type: ignore[untyped-decorator]  # pytriton is untyped
    def infer(**inputs: npt.NDArray[np.float32]) -> dict[str, npt.NDArray[np.float32]]:
        features = inputs[INPUT_NAME]
        (probabilities,) = session.run([OUTPUT_NAME], {INPUT_NAME: features})
        return {OUTPUT_NAME: probabilities}

    os.environ["LD_LIBRARY_PATH"] = python_library_path()  # inherited by tritonserver
    config = TritonConfig(
        http_address="127.0.0.1",
        http_port=http_port,
        grpc_address="127.0.0.1",
        grpc_port=grpc_port,
        metrics_port=metrics_port,
        exit_timeout_secs=1,  # in-flight calls are tens of microseconds of work
    )
    # pytriton guards Triton's admin endpoints with a token of its own; the statistics stay
    # open (read-only counts), as they are how the tests see how many calls a page made.
    security = TritonSecurityConfig(
        restricted_endpoints=[e for e in DEFAULT_PROTECTED_ENDPOINTS if e != "statistics"]
    )
    with Triton(config=config, security_config=security) as triton:
        triton.bind(
            model_name=name,
            infer_func=infer,
            inputs=[_tensor(spec.name, spec.data_type, spec.dims) for spec in [model_input]],
            outputs=[_tensor(spec.name, spec.data_type, spec.dims) for spec in [model_output]],
            config=ModelConfig(
                max_batch_size=MAX_BATCH_SIZE,
                batcher=DynamicBatcher(max_queue_delay_microseconds=MAX_QUEUE_DELAY_MICROSECONDS),
            ),
            strict=True,
        )
        logger.info(
            "Triton serving %s (version %s, %d features) over HTTP on %d, gRPC on %d",
            name,
            model_file.version,
            model_file.n_features,
            http_port,
            grpc_port,
        )
        triton.serve()


def _tensor(name: str, data_type: str, dims: tuple[int, ...]) -> Tensor:
    return Tensor(name=name, dtype=NUMPY_TYPES[data_type], shape=dims)
