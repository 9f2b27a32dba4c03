"""Going public approves every pending request, a bounded batch at a time."""

from __future__ import annotations

import pytest

from app.services import Runtime
from resolvers.context import Context
from resolvers.follow import approve_all_requests
from storage.follow import FollowState
from tests.conftest import insert_user

BATCH_SIZE = 2  # small, so that a handful of requests spans several batches


@pytest.mark.parametrize("requests", [BATCH_SIZE * 2, BATCH_SIZE * 2 + 1])
async def test_approving_all_requests_pages_through_every_batch(
    runtime: Runtime, requests: int
) -> None:
    """Given more pending requests than one batch holds (a last batch full or not), when
    all are approved, then each is a follow and the counters count each exactly once."""
    services = runtime.services
    owner = await insert_user(services)
    fans = [await insert_user(services) for _ in range(requests)]
    for fan in fans:
        await services.stores.follows.insert(
            services.ids.next_id(), fan.id, owner.id, FollowState.REQUESTED
        )

    await approve_all_requests(Context.for_viewer(services, owner), owner.id, batch_size=BATCH_SIZE)

    states = await services.stores.follows.states([(fan.id, owner.id) for fan in fans])
    assert list(states.values()) == [FollowState.FOLLOWING] * requests
    users = await services.stores.users.find_by_ids([owner.id, *(fan.id for fan in fans)])
    assert users[owner.id].follower_count == requests
    assert [users[fan.id].following_count for fan in fans] == [1] * requests
