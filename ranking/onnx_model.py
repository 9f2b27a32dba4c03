"""The engagement model evaluated in this process by onnxruntime, from the same ONNX file
Triton serves: the model when no Triton is configured, the fallback when it fails, and what
the offline evaluation (`pictograph eval-ranker`) scores.

Inline or in a thread, by measurement: a call that blocks the event loop delays every other
request of the process, but a hand-off to a thread costs ~50-100 us of its own. The shipped
trained MLP scores a 1,000-candidate window in ~0.1 ms (BENCHMARKS.md), so it runs inline; a
retrained model that takes more than INLINE_BUDGET_SECONDS on the warm-up window (timed when
the file is opened) runs in a thread instead, without a code change.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np

from ranking.model import INPUT_NAME, OUTPUT_NAME, Features, Probabilities
from ranking.model_file import SHIPPED_MODEL_PATH, ModelFile, open_model_file

# What the event loop may be blocked for one window: about a thread hand-off's cost ten
# times over, and well under a page's own work.
INLINE_BUDGET_SECONDS = 0.001
WARMUP_ROWS = 1_000  # the largest window ranked at once (reels, and the benchmarks)
WARMUP_RUNS = 5  # the first runs allocate; the median of a few is the steady cost


class OnnxEngagementModel:
    def __init__(self, path: Path = SHIPPED_MODEL_PATH) -> None:
        self._session, self.file = open_model_file(path)
        self.warmup_seconds = self._time_warmup()
        self.inline = self.warmup_seconds <= INLINE_BUDGET_SECONDS

    @property
    def n_features(self) -> int:
        return self.file.n_features

    async def predict(self, features: Features) -> Probabilities:
        if self.inline:
            return self.predict_now(features)
        return await asyncio.to_thread(self.predict_now, features)

    def predict_now(self, features: Features) -> Probabilities:
        (probabilities,) = self._session.run(
            [OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(features, dtype=np.float32)}
        )
        result: Probabilities = probabilities
        return result

    def _time_warmup(self) -> float:
        window = np.zeros((WARMUP_ROWS, self.n_features), dtype=np.float32)
        timings = []
        for _ in range(WARMUP_RUNS):
            started = time.perf_counter()
            self.predict_now(window)
            timings.append(time.perf_counter() - started)
        return float(np.median(timings))


def describe(model: ModelFile) -> dict[str, object]:
    return {"file": model.path.name, "version": model.version, "features": model.n_features}
