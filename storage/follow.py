"""The `follows` collection: one document per (follower, followee), following or requested.

The unique index on the pair makes a repeated follow a no-op, so the counters on `users` are
changed only by the one call whose insert, approval or delete actually happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from storage.cache import Cache, Pair
from storage.mongo import Collection, Document


class FollowState(StrEnum):
    NONE = "NONE"
    REQUESTED = "REQUESTED"
    FOLLOWING = "FOLLOWING"


@dataclass(frozen=True, slots=True)
class FollowRecord:
    id: int  # time-ordered: the keyset of follower and request lists
    follower_id: int
    followee_id: int
    state: FollowState


def _record(document: Document) -> FollowRecord:
    return FollowRecord(
        id=document["_id"],
        follower_id=document["follower_id"],
        followee_id=document["followee_id"],
        state=FollowState(document["state"]),
    )


class FollowStore:
    def __init__(
        self, collection: Collection, cache: Cache[Pair, str], since: Cache[Pair, str]
    ) -> None:
        self._follows = collection
        self._cache = cache  # (follower, followee) -> FollowState value
        self._since = since  # (follower, followee) -> the approved follow's id, or ""

    async def create_indexes(self) -> None:
        await self._follows.create_indexes(
            [
                IndexModel([("follower_id", ASCENDING), ("followee_id", ASCENDING)], unique=True),
                IndexModel([("followee_id", ASCENDING), ("state", ASCENDING), ("_id", ASCENDING)]),
                IndexModel([("follower_id", ASCENDING), ("state", ASCENDING), ("_id", DESCENDING)]),
            ]
        )

    async def insert(
        self, follow_id: int, follower_id: int, followee_id: int, state: FollowState
    ) -> FollowRecord | None:
        """Create the follow; None when the pair already had one (which is left as it was)."""
        document: Document = {
            "_id": follow_id,
            "follower_id": follower_id,
            "followee_id": followee_id,
            "state": state.value,
        }
        try:
            await self._follows.insert_one(document)
        except DuplicateKeyError:
            return None
        finally:
            await self._forget(follower_id, followee_id)
        return _record(document)

    async def find(self, follower_id: int, followee_id: int) -> FollowRecord | None:
        document = await self._follows.find_one(
            {"follower_id": follower_id, "followee_id": followee_id}
        )
        return None if document is None else _record(document)

    async def delete(
        self, follower_id: int, followee_id: int, *, state: FollowState | None = None
    ) -> FollowRecord | None:
        """Remove the follow (only one in `state`, if given); returns what was removed."""
        query: Document = {"follower_id": follower_id, "followee_id": followee_id}
        if state is not None:
            query["state"] = state.value
        document = await self._follows.find_one_and_delete(query)
        await self._forget(follower_id, followee_id)
        return None if document is None else _record(document)

    async def approve(self, follower_id: int, followee_id: int) -> bool:
        """Turn a pending request into a follow; False when there was no pending request."""
        result = await self._follows.update_one(
            {
                "follower_id": follower_id,
                "followee_id": followee_id,
                "state": FollowState.REQUESTED.value,
            },
            {"$set": {"state": FollowState.FOLLOWING.value}},
        )
        await self._forget(follower_id, followee_id)
        return bool(result.modified_count)

    async def states(self, pairs: Iterable[Pair]) -> dict[Pair, FollowState]:
        """How each (follower, followee) pair follows: NONE where it does not."""
        values = await self._cache.read_through(pairs, self._load_states)
        return {pair: FollowState(value) for pair, value in values.items()}

    async def _load_states(self, pairs: list[Pair]) -> dict[Pair, str]:
        cursor = self._follows.find(
            {"$or": [{"follower_id": a, "followee_id": b} for a, b in pairs]},
            {"follower_id": 1, "followee_id": 1, "state": 1},
        )
        states = dict.fromkeys(pairs, FollowState.NONE.value)
        async for document in cursor:
            states[(document["follower_id"], document["followee_id"])] = document["state"]
        return states

    async def page_followers(
        self, followee_id: int, state: FollowState, *, before_id: int | None, limit: int
    ) -> list[FollowRecord]:
        """Follows of `followee_id` in `state`, newest first, older than `before_id`."""
        query: Document = {"followee_id": followee_id, "state": state.value}
        if before_id is not None:
            query["_id"] = {"$lt": before_id}
        cursor = self._follows.find(query).sort("_id", DESCENDING).limit(limit)
        return [_record(document) async for document in cursor]

    async def page_following(
        self, follower_id: int, *, before_id: int | None, limit: int
    ) -> list[FollowRecord]:
        """Accounts `follower_id` follows, newest follow first, older than `before_id`."""
        query: Document = {"follower_id": follower_id, "state": FollowState.FOLLOWING.value}
        if before_id is not None:
            query["_id"] = {"$lt": before_id}
        cursor = self._follows.find(query).sort("_id", DESCENDING).limit(limit)
        return [_record(document) async for document in cursor]

    async def follower_ids(
        self, followee_id: int, *, after_id: int, limit: int
    ) -> list[tuple[int, int]]:
        """(follow id, follower id) of approved followers, oldest follow first, after
        `after_id`: fan-out pages through them in this order."""
        cursor = (
            self._follows.find(
                {
                    "followee_id": followee_id,
                    "state": FollowState.FOLLOWING.value,
                    "_id": {"$gt": after_id},
                },
                {"follower_id": 1},
            )
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return [(document["_id"], document["follower_id"]) async for document in cursor]

    async def followee_ids(self, follower_id: int, *, limit: int) -> list[int]:
        """Accounts `follower_id` follows (approved), most recent follows first."""
        cursor = (
            self._follows.find(
                {"follower_id": follower_id, "state": FollowState.FOLLOWING.value},
                {"followee_id": 1},
            )
            .sort("_id", DESCENDING)
            .limit(limit)
            .batch_size(limit)  # one batch: a tray rebuild reads up to 7,500 in one round trip
        )
        return [document["followee_id"] async for document in cursor]

    async def follow_ids(self, follower_id: int, followee_ids: list[int]) -> dict[int, int]:
        """The id (so the time) of `follower_id`'s approved follow of each of `followee_ids`
        that it follows: one cache read, and one query for what it missed."""
        if not followee_ids:
            return {}
        pairs = [(follower_id, followee) for followee in followee_ids]
        values = await self._since.read_through(pairs, self._load_follow_ids)
        return {followee: int(value) for (_, followee), value in values.items() if value}

    async def _load_follow_ids(self, pairs: list[Pair]) -> dict[Pair, str]:
        follower_id = pairs[0][0]  # every pair is of one follower
        cursor = self._follows.find(
            {
                "follower_id": follower_id,
                "followee_id": {"$in": [followee for _, followee in pairs]},
                "state": FollowState.FOLLOWING.value,
            },
            {"followee_id": 1},
        ).batch_size(len(pairs))
        ids = dict.fromkeys(pairs, "")
        async for document in cursor:
            ids[(follower_id, document["followee_id"])] = str(document["_id"])
        return ids

    async def _forget(self, follower_id: int, followee_id: int) -> None:
        """After a write to the pair's follow: its cached state and time are stale."""
        await self._cache.delete((follower_id, followee_id))
        await self._since.delete((follower_id, followee_id))

    async def pending_requests_to(
        self, followee_id: int, *, after_id: int, limit: int
    ) -> list[FollowRecord]:
        """Up to `limit` pending requests to `followee_id`, oldest first, after `after_id`:
        approving them all pages through them in this order."""
        cursor = (
            self._follows.find(
                {
                    "followee_id": followee_id,
                    "state": FollowState.REQUESTED.value,
                    "_id": {"$gt": after_id},
                }
            )
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return [_record(document) async for document in cursor]
