"""The worst request the cost limit accepts, and a follow graph that fills it, written
straight through the stores (sign-ups through the API would hash 100 passwords)."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.context import Services
from storage.follow import FollowState
from storage.user import UserRecord

FANS = 100  # a full page of the star's followers
FANS_OF_EACH_FAN = 22  # each fan's own followers page: the most that fits under the limit

# Two levels of pages (100 followers, each with 22 of theirs) with the contract's UserChip:
# 4,803 points; 23 of theirs would cost 5,003, over MAX_QUERY_COST.
WORST_ACCEPTED_QUERY = """
query Worst($username: String!) {
  user(username: $username) {
    followers(first: 100) {
      edges { cursor node { ...UserChip followers(first: 22) {
        edges { cursor node { ...UserChip bio followerCount } }
        pageInfo { hasNextPage endCursor }
      } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
fragment UserChip on User { id username displayName avatarUrl }
"""


@dataclass(frozen=True)
class FollowerGraph:
    star: UserRecord
    fans: list[UserRecord]


async def _user(services: Services, prefix: str) -> UserRecord:
    user_id = services.ids.next_id()
    return await services.stores.users.insert(
        user_id=user_id,
        username=f"{prefix}_{user_id}",
        email=f"{prefix}_{user_id}@example.com",
        password_hash="unused",
        created_at=services.clock(),
    )


async def make_follower_graph(services: Services) -> FollowerGraph:
    """A star followed by FANS fans, each fan followed by the FANS_OF_EACH_FAN fans after it
    (in a ring)."""
    star = await _user(services, "star")
    fans = [await _user(services, "fan") for _ in range(FANS)]
    follows = services.stores.follows
    for index, fan in enumerate(fans):
        await follows.insert(services.ids.next_id(), fan.id, star.id, FollowState.FOLLOWING)
        for step in range(1, FANS_OF_EACH_FAN + 1):
            follower = fans[(index + step) % FANS]
            await follows.insert(services.ids.next_id(), follower.id, fan.id, FollowState.FOLLOWING)
    return FollowerGraph(star=star, fans=fans)
