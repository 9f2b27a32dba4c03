"""One delivery pass per event for all of its receivers in a process (resolvers/delivery.py):
the policy asked for all of them at once, a lane's rendering pushed to many sockets, and a
socket that cannot take a push dropped without holding up the others."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any

import pytest

from app.services import Runtime
from loaders.shared import SharedReads
from resolvers.context import Services
from resolvers.delivery import Receiver
from resolvers.subscription import POST_LIKED, PostLike
from storage.user import UserRecord
from subscriptions.channels import post_channel
from subscriptions.events import PostLiked
from subscriptions.subscription import SubscriberTooSlow
from tests.conftest import insert_post, insert_user
from tests.ws import until

WAIT_SECONDS = 10.0


class RecordingLane:
    """A lane that renders a like as its liker's id and records what it is pushed; one
    that `stalls` never finishes a push, as a socket whose buffers are full."""

    def __init__(self, *, stalls: bool = False) -> None:
        self.pushed: list[str] = []
        self.renders = 0
        self._stalls = stalls

    @property
    def key(self) -> Hashable:
        return "one document"

    async def render(self, result: PostLike) -> str | None:
        self.renders += 1
        return str(result.user.id)

    async def push(self, payload: str) -> bool:
        if self._stalls:
            await asyncio.Event().wait()
        self.pushed.append(payload)
        return True


async def joined(
    services: Services, post_id: int, viewer: UserRecord, lane: RecordingLane
) -> Receiver[PostLike]:
    receiver: Receiver[PostLike] = Receiver(services, viewer.id, lane)
    await services.deliveries.join(post_channel(post_id), POST_LIKED, receiver)
    return receiver


async def test_a_socket_that_cannot_take_a_push_is_dropped_and_the_others_are_pushed(
    runtime: Runtime,
) -> None:
    # Given three receivers of a post's likes, the second one's socket full
    services = runtime.services
    author, liker = await insert_user(services), await insert_user(services)
    post = await insert_post(services, author.id)
    lanes = [RecordingLane(), RecordingLane(stalls=True), RecordingLane()]
    receivers = [
        await joined(services, post.id, await insert_user(services), lane) for lane in lanes
    ]
    try:
        # When a like is published
        await services.bus.publish(PostLiked(post_id=post.id, actor_id=liker.id))
        # Then the others are pushed it, the one after the full one too
        await until(lambda: bool(lanes[2].pushed), WAIT_SECONDS)
        assert lanes[0].pushed == lanes[2].pushed == [str(liker.id)]
        # And the full one is dropped as too slow (its operation closes its socket, 4013)
        with pytest.raises(SubscriberTooSlow):
            await asyncio.wait_for(anext(receivers[1].queue), WAIT_SECONDS)
        assert services.deliveries.receiver_count(post_channel(post.id)) == 2
        # And the like was rendered once for all of them
        assert sum(lane.renders for lane in lanes) == 1
    finally:
        for receiver in receivers:
            await services.deliveries.leave(post_channel(post.id), POST_LIKED, receiver)


async def test_a_receiver_who_blocked_the_liker_is_delivered_nothing(runtime: Runtime) -> None:
    # Given two receivers of a post's likes, one of whom blocked the liker after joining
    services = runtime.services
    author, liker = await insert_user(services), await insert_user(services)
    post = await insert_post(services, author.id)
    blocker, other = await insert_user(services), await insert_user(services)
    lanes = [RecordingLane(), RecordingLane()]
    receivers = [
        await joined(services, post.id, viewer, lane)
        for viewer, lane in zip((blocker, other), lanes, strict=True)
    ]
    await services.stores.blocks.insert(blocker.id, liker.id)
    try:
        # When the liker's like is published
        await services.bus.publish(PostLiked(post_id=post.id, actor_id=liker.id))
        # Then only the other is pushed it
        await until(lambda: bool(lanes[1].pushed), WAIT_SECONDS)
        await asyncio.sleep(0.05)  # the one delivery pass has ended by now
        assert lanes[0].pushed == []
    finally:
        for receiver in receivers:
            await services.deliveries.leave(post_channel(post.id), POST_LIKED, receiver)


async def test_a_block_past_the_cut_of_a_users_block_list_still_hides_them(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a liker blocked by more accounts than one read of its block list returns
    services = runtime.services
    cut = 3
    monkeypatch.setattr("storage.block.MAX_BLOCKS_READ", cut)
    monkeypatch.setattr("loaders.visibility.MAX_BLOCKS_READ", cut)
    liker = await insert_user(services)
    blockers = [await insert_user(services) for _ in range(cut + 1)]
    for blocker in blockers:
        await services.stores.blocks.insert(blocker.id, liker.id)
    bystander = await insert_user(services)
    # When the policy is asked about all of them at once
    viewers = [blocker.id for blocker in blockers] + [bystander.id]
    seen = await SharedReads(services.stores).audience.see_user(viewers, liker)
    # Then every blocker is refused, the last one too, and the bystander is not
    assert seen == [False] * len(blockers) + [True]


async def test_a_block_is_in_both_users_block_lists_at_once(runtime: Runtime) -> None:
    # Given both users' block lists read (and cached) before the block
    services = runtime.services
    blocker, blocked = await insert_user(services), await insert_user(services)
    before: dict[int, Any] = await services.stores.blocks.ids_either_way_of(
        [blocker.id, blocked.id]
    )
    assert before == {blocker.id: frozenset(), blocked.id: frozenset()}
    # When one blocks the other, then unblocks
    await services.stores.blocks.insert(blocker.id, blocked.id)
    during = await services.stores.blocks.ids_either_way_of([blocker.id, blocked.id])
    await services.stores.blocks.delete(blocker.id, blocked.id)
    after = await services.stores.blocks.ids_either_way_of([blocker.id, blocked.id])
    # Then each list shows it while it lasts, and not after
    assert during == {blocker.id: frozenset({blocked.id}), blocked.id: frozenset({blocker.id})}
    assert after == before
