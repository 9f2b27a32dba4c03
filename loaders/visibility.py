"""Who may see what: the one visibility policy, and the base of the loaders that apply it.

For a viewer (None when anonymous):

- A user is hidden when the viewer and they have blocked one another, either way. Nothing
  else hides a user: a private account's profile is visible to everyone.
- A user's content (posts, follower and following lists; later stories and reels) is
  visible when the user is visible and is public, is the viewer, or is followed by the
  viewer (an approved follow, not a request).
- A post is visible when its author's content is; a comment when its post and its author
  are. What was deleted is absent.
- A story is visible when its author's content is, until it expires: from the second of its
  `expires_at` (by the clock the policy is given) it is absent, as if deleted.
- A reel (a post with a video) and a video story are visible to others only once their
  video is READY: while it is PROCESSING, or when it FAILED, only its author sees it (by
  `node(id:)`, with its status and the reason it failed); no list shows it to anyone else.
- A message thread is visible to its participants only, and a message when its thread is.
  Blocks do not hide a thread or its messages from a participant (the history stays), but
  they do hide the blocked account itself (as a participant, as a message's sender).

Every field leading to a user, post, comment, story, thread or message reads it through a
`FilteredLoader` (`Loaders.user_by_id`, `post_by_id`, `comment_by_id`, `story_by_id`,
`thread_by_id`, `message_by_id`), which answers None for what the
viewer may not see, and whose `filter` does the same for records a store query returned.
The unfiltered loaders beneath them are `Loaders.unfiltered`: for mutations and internal
checks that must see past the policy, never for what a field returns.

The rules are the functions below (`sees_user`, `follow_decides`, `video_shown`,
`post_shown`); `Visibility` applies them for one viewer and many records, `Audience` for
many viewers and one record (a subscription event's receivers in a process).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from loaders.base import Loader
from loaders.block import BlockedByUserIdLoader
from loaders.follow import FollowStateByUserIdLoader
from storage.block import MAX_BLOCKS_READ
from storage.cache import Pair
from storage.follow import FollowState
from storage.message import ThreadRecord
from storage.post import PostRecord
from storage.story import StoryRecord
from storage.user import UserRecord
from storage.video import VideoState, VideoStatus


class Identified(Protocol):
    @property
    def id(self) -> int: ...


RecordT = TypeVar("RecordT", bound=Identified)


# The rules themselves, for one viewer and what is already loaded: `Visibility` (one viewer,
# many records) and `Audience` (many viewers, one record) load the facts and apply these.


def sees_user(viewer_id: int | None, user: UserRecord, blocked: bool) -> bool:
    """Whether the viewer sees `user` at all, `blocked` saying whether either blocked the
    other."""
    return user.id == viewer_id or not blocked


def follow_decides(viewer_id: int | None, user: UserRecord) -> bool:
    """Whether the viewer's follow of `user` decides if they see `user`'s content (a
    private account, not their own); they see it then only while FOLLOWING."""
    return user.is_private and user.id != viewer_id


def video_shown(viewer_id: int | None, author_id: int, video: VideoState | None) -> bool:
    """Whether the viewer may see a record with `video` by `author_id` (its other rules
    aside): what has no video, a READY one, or the viewer's own whatever its status."""
    return video is None or video.status is VideoStatus.READY or author_id == viewer_id


def post_shown(viewer_id: int | None, post: PostRecord, author_content_visible: bool) -> bool:
    """Whether the viewer may see `post`, given whether they may see its author's content."""
    return author_content_visible and video_shown(viewer_id, post.author_id, post.video)


class Visibility:
    """The policy's rules about users, each checked for many users with one batched load
    per relation, so a page of a hundred posts costs no task per post."""

    def __init__(
        self,
        viewer_id: int | None,
        blocks: BlockedByUserIdLoader,
        follow_states: FollowStateByUserIdLoader,
        clock: Callable[[], datetime],
    ) -> None:
        self._viewer_id = viewer_id
        self._blocks = blocks
        self._follow_states = follow_states
        self._clock = clock

    @property
    def viewer_id(self) -> int | None:
        return self._viewer_id

    async def users_visible(self, users: Sequence[UserRecord]) -> list[bool]:
        """Whether the viewer may see each user at all (their profile)."""
        blocked = await self._blocks.load_many([user.id for user in users])
        return [
            sees_user(self._viewer_id, user, is_blocked)
            for user, is_blocked in zip(users, blocked, strict=True)
        ]

    async def contents_visible(self, users: Sequence[UserRecord]) -> list[bool]:
        """Whether the viewer may see each user's content."""
        visible = await self.users_visible(users)
        gated = [
            user
            for user, ok in zip(users, visible, strict=True)
            if ok and follow_decides(self._viewer_id, user)
        ]
        states = await self._follow_states.load_many([user.id for user in gated])
        refused = {
            user.id
            for user, state in zip(gated, states, strict=True)
            if state is not FollowState.FOLLOWING
        }
        return [ok and user.id not in refused for user, ok in zip(users, visible, strict=True)]

    async def content_visible(self, user: UserRecord) -> bool:
        return (await self.contents_visible([user]))[0]

    async def stories_visible(
        self, stories: Sequence[StoryRecord], authors: Sequence[UserRecord | None]
    ) -> list[bool]:
        """Whether the viewer may see each story (`authors[i]` wrote `stories[i]`): live now
        and by an author whose content the viewer may see."""
        present = [author for author in authors if author is not None]
        shown = await self.contents_visible(present)
        open_authors = {author.id for author, ok in zip(present, shown, strict=True) if ok}
        now = self._clock()
        return [
            story.author_id in open_authors
            and story.expires_at > now
            and self.video_shown(story.author_id, story.video)
            for story in stories
        ]

    def video_shown(self, author_id: int, video: VideoState | None) -> bool:
        """Whether the viewer may see a record with `video` by `author_id` (its other rules
        aside)."""
        return video_shown(self._viewer_id, author_id, video)

    def now(self) -> datetime:
        """The policy's clock: what decides which stories are live."""
        return self._clock()

    def threads_visible(self, threads: Sequence[ThreadRecord]) -> list[bool]:
        """Whether the viewer takes part in each thread: only participants read, send to
        or subscribe to one."""
        return [
            self._viewer_id is not None and self._viewer_id in thread.participant_ids
            for thread in threads
        ]


class Audience:
    """The same rules for many viewers of one record at once: what one event asks for all
    of its receivers in a process (resolvers/delivery.py), one batched read per relation
    for all of them, never a task per viewer. Pairs are (viewer, user)."""

    def __init__(
        self,
        blocked_ids: Loader[int, frozenset[int]],
        blocked_pairs: Loader[Pair, bool],
        follow_states: Loader[Pair, FollowState],
    ) -> None:
        self._blocked_ids = blocked_ids
        self._blocked_pairs = blocked_pairs
        self._follow_states = follow_states

    async def see_user(self, viewer_ids: Sequence[int], user: UserRecord) -> list[bool]:
        """Whether each viewer may see `user` at all: from the one list of the accounts
        `user` blocked or was blocked by, or pair by pair where that list was cut at its
        bound (an account blocked by that many people)."""
        blocked_ids = await self._blocked_ids.load(user.id)
        if len(blocked_ids) < MAX_BLOCKS_READ:
            blocked = [viewer in blocked_ids for viewer in viewer_ids]
        else:
            blocked = await self._blocked_pairs.load_many([(v, user.id) for v in viewer_ids])
        return [
            sees_user(viewer, user, is_blocked)
            for viewer, is_blocked in zip(viewer_ids, blocked, strict=True)
        ]

    async def see_content(self, viewer_ids: Sequence[int], user: UserRecord) -> list[bool]:
        """Whether each viewer may see `user`'s content."""
        visible = await self.see_user(viewer_ids, user)
        gated = [
            viewer
            for viewer, ok in zip(viewer_ids, visible, strict=True)
            if ok and follow_decides(viewer, user)
        ]
        states = await self._follow_states.load_many([(viewer, user.id) for viewer in gated])
        refused = {
            viewer
            for viewer, state in zip(gated, states, strict=True)
            if state is not FollowState.FOLLOWING
        }
        return [
            ok and viewer not in refused for viewer, ok in zip(viewer_ids, visible, strict=True)
        ]

    async def see_post(
        self, viewer_ids: Sequence[int], post: PostRecord, author: UserRecord
    ) -> list[bool]:
        """Whether each viewer may see `post`, whose author is `author`."""
        contents = await self.see_content(viewer_ids, author)
        return [
            post_shown(viewer, post, ok) for viewer, ok in zip(viewer_ids, contents, strict=True)
        ]


class FilteredLoader(Loader[int, RecordT | None]):
    """Records by id as the viewer may see them: None for what is absent or hidden.

    It reads through an unfiltered loader, so priming and clearing go to that one too:
    a primed record still passes the policy before this loader hands it out."""

    def __init__(self, unfiltered: Loader[int, RecordT | None]) -> None:
        super().__init__()
        self._unfiltered = unfiltered

    @abstractmethod
    async def allowed(self, records: list[RecordT]) -> list[bool]:
        """Whether the viewer may see each of these existing records."""

    async def batch_load_fn(self, keys: Sequence[int]) -> list[RecordT | None]:
        records = await self._unfiltered.load_many(keys)
        present = [record for record in records if record is not None]
        allowed = await self.allowed(present)
        shown = {record.id for record, ok in zip(present, allowed, strict=True) if ok}
        return [record if record is not None and record.id in shown else None for record in records]

    async def filter(self, records: Sequence[RecordT]) -> list[RecordT]:
        """Records a store query returned, less those the viewer may not see, in order."""
        for record in records:
            self.prime(record.id, record)
        loaded = await self.load_many([record.id for record in records])
        return [record for record in loaded if record is not None]

    def prime(self, key: int, value: RecordT | None) -> FilteredLoader[RecordT]:
        """Prime the unfiltered loader: what this one answers for `key` passes the policy."""
        self._unfiltered.prime(key, value)
        return self

    def clear(self, key: int) -> FilteredLoader[RecordT]:
        self._unfiltered.clear(key)
        super().clear(key)
        return self
