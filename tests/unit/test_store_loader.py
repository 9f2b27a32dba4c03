"""StoreLoader.load_many: memoised keys are answered without a task per key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pytest

from loaders.base import StoreLoader
from storage.stores import Stores


class SquareLoader(StoreLoader[int, int | Exception]):
    def __init__(self) -> None:
        super().__init__(cast("Stores", None), viewer_id=None)
        self.batches: list[list[int]] = []

    async def batch_load_fn(self, keys: Sequence[int]) -> list[int | Exception]:
        self.batches.append(list(keys))
        return [ValueError(f"no {key}") if key < 0 else key * key for key in keys]


async def test_keys_not_yet_loaded_are_loaded_in_one_batch() -> None:
    loader = SquareLoader()

    assert await loader.load_many([2, 3]) == [4, 9]
    assert loader.batches == [[2, 3]]


async def test_memoised_keys_are_answered_by_a_finished_future_without_loading() -> None:
    loader = SquareLoader()
    await loader.load_many([2, 3])

    answer = loader.load_many([3, 2])

    assert answer.done() and answer.result() == [9, 4]
    assert loader.batches == [[2, 3]]


async def test_a_memoised_failure_is_raised_again() -> None:
    loader = SquareLoader()
    with pytest.raises(ValueError, match="no -1"):
        await loader.load_many([2, -1])

    with pytest.raises(ValueError, match="no -1"):
        await loader.load_many([2, -1])
