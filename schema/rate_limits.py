"""Every mutation field counted against its rate limits (resolvers/rate_limits.py) before
it runs: `@rate_limited` on the Mutation type puts the check on each of its fields, so a
mutation added later cannot skip it. A throttled field is a RATE_LIMITED error at its own
path; its aliases in the same request count one each."""

from __future__ import annotations

from typing import Any, TypeVar

from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.types import Info
from strawberry.types.base import get_object_definition

from resolvers.rate_limits import check_mutation

T = TypeVar("T", bound=type)


class MutationRateLimit(FieldExtension):
    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        await check_mutation(info.context, info.field_name)
        return await next_(source, info, **kwargs)


def rate_limited(cls: T) -> T:
    """Put `MutationRateLimit` on every field of the strawberry type `cls`."""
    definition = get_object_definition(cls, strict=True)
    for field in definition.fields:
        if not any(isinstance(extension, MutationRateLimit) for extension in field.extensions):
            field.extensions.append(MutationRateLimit())
    return cls
