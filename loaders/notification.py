"""Per-request loaders of notifications: as stored, and as the viewer may see them.

A notification is shown to its receiver only, and only while what it tells of passes the
visibility policy for them at the time of reading, not only when it was written: its post,
comment or message visible, and at least one of its actors (other than the receiver) not
blocked either way. A block, an unfollow of a private account or a deletion after the event
therefore hides it at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from loaders.base import StoreLoader
from loaders.comment import CommentByIdLoader
from loaders.message import MessageByIdLoader
from loaders.post import PostByIdLoader
from loaders.user import UserByIdLoader
from loaders.visibility import FilteredLoader
from storage.notification import NotificationRecord
from storage.user import UserRecord


class UnfilteredNotificationByIdLoader(StoreLoader[int, NotificationRecord | None]):
    """Notifications as stored, whoever the viewer: see `Loaders.unfiltered`."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[NotificationRecord | None]:
        found = await self._stores.notifications.find_by_ids(keys)
        return [found.get(key) for key in keys]


class ReadKeyByUserIdLoader(StoreLoader[int, int]):
    """Each user's notification read marker: their notifications at or below it are read."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[int]:
        found = await self._stores.notifications.read_keys(keys)
        return [found[key] for key in keys]


class NotificationByIdLoader(FilteredLoader[NotificationRecord]):
    """The viewer's own notifications that they may see now: None for any other."""

    def __init__(
        self,
        unfiltered: UnfilteredNotificationByIdLoader,
        viewer_id: int | None,
        users: UserByIdLoader,
        posts: PostByIdLoader,
        comments: CommentByIdLoader,
        messages: MessageByIdLoader,
    ) -> None:
        super().__init__(unfiltered)
        self._viewer_id = viewer_id
        self._users = users
        self._posts = posts
        self._comments = comments
        self._messages = messages

    async def allowed(self, records: list[NotificationRecord]) -> list[bool]:
        mine = [record for record in records if record.receiver_id == self._viewer_id]
        # Every read at once, one batch per loader, so a page costs no query per row.
        await asyncio.gather(
            self._users.load_many([actor for record in mine for actor in record.actor_ids]),
            self._posts.load_many([r.post_id for r in mine if r.post_id is not None]),
            self._comments.load_many([r.comment_id for r in mine if r.comment_id is not None]),
            self._messages.load_many([r.message_id for r in mine if r.message_id is not None]),
        )
        return [
            record.receiver_id == self._viewer_id and await self._shown(record)
            for record in records
        ]

    async def _shown(self, record: NotificationRecord) -> bool:
        """Whether what `record` tells of is visible to the viewer (memoised reads only)."""
        if record.post_id is not None and await self._posts.load(record.post_id) is None:
            return False
        if record.comment_id is not None and await self._comments.load(record.comment_id) is None:
            return False
        if record.message_id is not None and await self._messages.load(record.message_id) is None:
            return False
        return bool(await self.actors(record))

    async def actors(self, record: NotificationRecord) -> list[UserRecord]:
        """Its stored actors the viewer may see, latest first: never the viewer themselves,
        nor an account blocked either way."""
        users = await self._users.load_many(list(record.actor_ids))
        return [user for user in users if user is not None and user.id != self._viewer_id]
