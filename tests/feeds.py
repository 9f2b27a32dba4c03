"""What the feed store holds in Redis, for tests of the writes that change it.

Reads filter at read time (follows, blocks, deletions), so a removal that never reached
Redis would not show through the API: these tests look at the stored feed itself.
"""

from __future__ import annotations

from resolvers.context import Services
from resolvers.ids import parse_typed_id, to_global_id
from storage.feed import FEED_MAX_ITEMS
from tests.client import Account


def record_id(account: Account) -> int:
    user_id = parse_typed_id(account.id, "User")
    assert user_id is not None, account.id
    return user_id


async def stored_feed(services: Services, account: Account) -> list[str]:
    """The post ids (as the API names them) in the account's feed in Redis, newest first;
    fails when the account has no feed there."""
    ids = await services.stores.feeds.page(record_id(account), before_id=None, limit=FEED_MAX_ITEMS)
    assert ids is not None, f"{account.username} has no feed in Redis"
    return [to_global_id("Post", post_id) for post_id in ids]
