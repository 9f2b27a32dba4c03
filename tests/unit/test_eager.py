"""`eager`: an async resolver answers synchronously when nothing it awaits is pending."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from schema.eager import eager, run_eagerly


async def add_one(value: asyncio.Future[int]) -> int:
    return await value + 1


async def test_a_coroutine_awaiting_only_finished_futures_answers_at_once() -> None:
    done = asyncio.get_running_loop().create_future()
    done.set_result(41)

    assert run_eagerly(add_one(done)) == 42


async def test_a_coroutine_that_must_wait_answers_an_awaitable_of_its_result() -> None:
    pending = asyncio.get_running_loop().create_future()

    answer = run_eagerly(add_one(pending))
    assert inspect.isawaitable(answer)
    asyncio.get_running_loop().call_soon(pending.set_result, 1)

    assert await answer == 2


async def test_an_error_raised_before_suspending_is_raised_at_once() -> None:
    async def fails() -> int:
        raise LookupError("no such post")

    with pytest.raises(LookupError, match="no such post"):
        run_eagerly(fails())


async def test_an_error_raised_after_resuming_reaches_the_awaiter() -> None:
    pending = asyncio.get_running_loop().create_future()
    answer = run_eagerly(add_one(pending))
    pending.set_exception(LookupError("gone meanwhile"))

    with pytest.raises(LookupError, match="gone meanwhile"):
        await answer  # type: ignore[misc]


async def test_cancelling_the_awaiter_cancels_the_coroutine_where_it_waits() -> None:
    pending = asyncio.get_running_loop().create_future()
    cleaned_up = []

    async def waits() -> int:
        try:
            return int(await pending)
        finally:
            cleaned_up.append(True)

    task = asyncio.ensure_future(run_eagerly(waits()))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned_up == [True] and pending.cancelled()


def test_a_decorated_resolver_keeps_its_signature_for_strawberry() -> None:
    async def comments(first: int | None = 2, after: str | None = None) -> list[str]:
        return []

    decorated = eager(comments)

    assert inspect.signature(decorated) == inspect.signature(comments)
    assert not inspect.iscoroutinefunction(decorated)
