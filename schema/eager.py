"""Resolvers that answer synchronously when everything they await is already there.

graphql-core completes a field synchronously when its resolver returns a value, and through
an asyncio task and a gather when it returns an awaitable. A page of post cards prefetches
everything its cards show, so by the time the fields run, their loads are memoised futures
that are already done, and awaiting one does not suspend. `eager` runs an async resolver's
coroutine at once: if it finishes without suspending, graphql-core gets the value; if it
suspends on a load still in flight, graphql-core gets an awaitable that resumes it where it
stopped. Resolvers stay plain `async def` code either way.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, ParamSpec, TypeVar, cast

ParamsT = ParamSpec("ParamsT")
ResultT = TypeVar("ResultT")


def run_eagerly(coroutine: Coroutine[Any, Any, ResultT]) -> ResultT | Awaitable[ResultT]:
    """The coroutine's result if it completes without suspending, else an awaitable of it."""
    try:
        suspended_on = coroutine.send(None)
    except StopIteration as finished:
        return cast("ResultT", finished.value)
    return _resume(coroutine, suspended_on)


@types.coroutine
def _resume(
    coroutine: Coroutine[Any, Any, ResultT], suspended_on: Any
) -> Generator[Any, Any, ResultT]:
    """Hand what the coroutine suspended on to the task awaiting us, and go on from there:
    the task resumes the coroutine exactly as if it were awaiting it itself."""
    while True:
        try:
            sent = yield suspended_on
        except GeneratorExit:
            coroutine.close()
            raise
        except BaseException as error:  # cancellation, or an error the task throws in
            step = functools.partial(coroutine.throw, error)
        else:
            step = functools.partial(coroutine.send, sent)
        try:
            suspended_on = step()
        except StopIteration as finished:
            return cast("ResultT", finished.value)


def eager(
    resolver: Callable[ParamsT, Coroutine[Any, Any, ResultT]],
) -> Callable[ParamsT, ResultT]:
    """Decorate an async resolver to run eagerly (see the module). strawberry reads the
    resolver's parameters and return type through `functools.wraps`; graphql-core awaits
    whatever awaitable it returns, hence the cast."""

    @functools.wraps(resolver)
    def run(*args: ParamsT.args, **kwargs: ParamsT.kwargs) -> ResultT:
        return cast("ResultT", run_eagerly(resolver(*args, **kwargs)))

    return run
