"""Every MongoDB store of the app, built over one database and one Redis client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from storage.affinity import AffinityStore
from storage.block import BlockStore
from storage.cache import id_set_cache, record_cache, relation_cache
from storage.comment import CommentRecord, CommentStore
from storage.fanout_queue import FanoutQueue
from storage.feed import FeedStore
from storage.follow import FollowStore
from storage.hashtag import HashtagStore
from storage.id_lists import IdListStore
from storage.interaction import InteractionStore
from storage.large_accounts import LargeAccountStore
from storage.like import LikeStore
from storage.message import MessageStore
from storage.mongo import Database
from storage.notification import NotificationStore
from storage.post import PostRecord, PostStore
from storage.ranked_window import RankedWindowStore
from storage.redis import Redis
from storage.reel import ReelViewStore
from storage.session import SessionStore
from storage.story import StoryStore, StoryTrayStore
from storage.upload import UploadStore
from storage.user import UserRecord, UserStore

DEFAULT_FEED_INACTIVE_AFTER = timedelta(days=30)  # a month away: the feed is rebuilt on return


@dataclass(frozen=True, slots=True)
class Stores:
    users: UserStore
    sessions: SessionStore
    follows: FollowStore
    blocks: BlockStore
    uploads: UploadStore
    posts: PostStore
    likes: LikeStore
    comments: CommentStore
    messages: MessageStore
    hashtags: HashtagStore
    feeds: FeedStore
    ranked_windows: RankedWindowStore
    id_lists: IdListStore
    large_accounts: LargeAccountStore
    fanout: FanoutQueue
    interactions: InteractionStore
    affinity: AffinityStore
    notifications: NotificationStore
    stories: StoryStore
    story_trays: StoryTrayStore
    reel_views: ReelViewStore

    @classmethod
    def create(
        cls,
        database: Database,
        redis: Redis,
        *,
        feed_inactive_after: timedelta = DEFAULT_FEED_INACTIVE_AFTER,
    ) -> Stores:
        users = UserStore(database["users"], record_cache(redis, "user", UserRecord))
        return cls(
            users=users,
            sessions=SessionStore(database["sessions"]),
            follows=FollowStore(
                database["follows"],
                relation_cache(redis, "follow"),
                relation_cache(redis, "follow-since"),
            ),
            blocks=BlockStore(
                database["blocks"],
                relation_cache(redis, "block"),
                id_set_cache(redis, "blocks-of"),
            ),
            uploads=UploadStore(database["uploads"]),
            posts=PostStore(database["posts"], record_cache(redis, "post", PostRecord)),
            likes=LikeStore(database["likes"], relation_cache(redis, "like")),
            comments=CommentStore(
                database["comments"], record_cache(redis, "comment", CommentRecord)
            ),
            messages=MessageStore(database["threads"], database["messages"]),
            hashtags=HashtagStore(database["hashtags"]),
            feeds=FeedStore(redis, feed_inactive_after),
            ranked_windows=RankedWindowStore(redis),
            id_lists=IdListStore(redis),
            large_accounts=LargeAccountStore(redis, users),
            fanout=FanoutQueue(redis, database["outbox"]),
            interactions=InteractionStore(database["interactions"]),
            affinity=AffinityStore(redis),
            notifications=NotificationStore(
                database["notifications"], database["notification_markers"]
            ),
            stories=StoryStore(database["stories"], database["story_views"]),
            story_trays=StoryTrayStore(redis),
            reel_views=ReelViewStore(database["reel_views"]),
        )

    async def create_indexes(self) -> None:
        for store in (
            self.users,
            self.sessions,
            self.follows,
            self.blocks,
            self.uploads,
            self.posts,
            self.likes,
            self.comments,
            self.messages,
            self.hashtags,
            self.fanout,
            self.interactions,
            self.notifications,
            self.stories,
            self.reel_views,
        ):
            await store.create_indexes()
