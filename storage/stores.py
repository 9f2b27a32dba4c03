"""Every MongoDB store of the app, built over one database and one Redis client."""

from __future__ import annotations

from dataclasses import dataclass

from storage.block import BlockStore
from storage.cache import record_cache, relation_cache
from storage.follow import FollowStore
from storage.mongo import Database
from storage.redis import Redis
from storage.session import SessionStore
from storage.user import UserRecord, UserStore


@dataclass(frozen=True, slots=True)
class Stores:
    users: UserStore
    sessions: SessionStore
    follows: FollowStore
    blocks: BlockStore

    @classmethod
    def create(cls, database: Database, redis: Redis) -> Stores:
        return cls(
            users=UserStore(database["users"], record_cache(redis, "user", UserRecord)),
            sessions=SessionStore(database["sessions"]),
            follows=FollowStore(database["follows"], relation_cache(redis, "follow")),
            blocks=BlockStore(database["blocks"], relation_cache(redis, "block")),
        )

    async def create_indexes(self) -> None:
        for store in (self.users, self.sessions, self.follows, self.blocks):
            await store.create_indexes()
