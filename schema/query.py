"""The root `Query` type: thin fields that hand over to resolvers."""

from __future__ import annotations

import strawberry

from resolvers import comment as comment_resolvers
from resolvers import feed as feed_resolvers
from resolvers import follow as follow_resolvers
from resolvers import message as message_resolvers
from resolvers import notification as notification_resolvers
from resolvers import post as post_resolvers
from resolvers import reel as reel_resolvers
from resolvers import story as story_resolvers
from resolvers import user as user_resolvers
from resolvers.errors import BadUserInput
from resolvers.feed import EXPLORE_PAGE_SIZE, FeedOrder
from resolvers.ids import parse_global_id
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.types.comment import Comment
from schema.types.common import Connection, Info, Node, to_connection
from schema.types.hashtag import Hashtag
from schema.types.message import Message, Thread
from schema.types.notification import Notification
from schema.types.post import Post
from schema.types.reel import Reel
from schema.types.story import Story, StoryTrayEntry
from schema.types.user import User

# Registered for GraphQL; annotations use the resolvers' enum itself.
strawberry.enum(FeedOrder, name="FeedOrder")


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; null when absent or hidden.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = parse_global_id(id)
        if parsed is None:
            raise BadUserInput("`id` is not a valid global id.")
        type_name, record_id = parsed
        context = info.context
        if type_name == "User":
            return User.wrap_optional(await user_resolvers.user_by_id(context, record_id))
        if type_name == "Post":
            post = await post_resolvers.visible_post(context, record_id)
            return None if post is None else Post.wrap(post)
        if type_name == "Comment":
            comment = await comment_resolvers.visible_comment(context, record_id)
            return None if comment is None else Comment.wrap(comment)
        if type_name == "Thread":
            thread = await message_resolvers.visible_thread(context, record_id)
            return None if thread is None else Thread.wrap(thread)
        if type_name == "Message":
            message = await message_resolvers.visible_message(context, record_id)
            return Message.wrap_optional(message)
        if type_name == "Notification":
            notification = await notification_resolvers.visible_notification(context, record_id)
            return Notification.wrap_optional(notification)
        if type_name == "Reel":
            return Reel.wrap_optional(await post_resolvers.visible_reel(context, record_id))
        if type_name == "Story":
            return Story.wrap_optional(await story_resolvers.visible_story(context, record_id))
        return None

    @strawberry.field(description="The signed-in user, or null when anonymous.")
    def viewer(self, info: Info) -> User | None:
        return User.wrap_optional(user_resolvers.viewer(info.context))

    @strawberry.field(
        description="A user by username (case-insensitive); null when absent or hidden."
    )
    async def user(self, info: Info, username: str) -> User | None:
        return User.wrap_optional(await user_resolvers.user_by_username(info.context, username))

    @strawberry.field(
        description="Users whose username or name starts with `query`, most followed first."
    )
    async def search_users(
        self, info: Info, query: str, first: int | None = user_resolvers.DEFAULT_SEARCH_RESULTS
    ) -> Connection[User]:
        users = await user_resolvers.search_users(info.context, query, first)
        return to_connection(user_resolvers.search_page(users), User.wrap)

    @strawberry.field(
        description="The home feed: posts of the accounts the viewer follows and the "
        "viewer's own, ranked unless `order: CHRONOLOGICAL`."
    )
    async def feed(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        order: FeedOrder = FeedOrder.RANKED,
    ) -> Connection[Post]:
        page = await feed_resolvers.feed(info.context, first, after, order)
        return to_connection(page, Post.wrap)

    @strawberry.field(description="Recommended posts from accounts the viewer does not follow.")
    async def explore(
        self, info: Info, first: int | None = EXPLORE_PAGE_SIZE, after: str | None = None
    ) -> Connection[Post]:
        page = await feed_resolvers.explore(info.context, first, after)
        return to_connection(page, Post.wrap)

    @strawberry.field(
        description="A ranked stream of READY reels from everyone the viewer may see "
        "(followed accounts and public ones), the viewer's own left out."
    )
    async def reels(
        self,
        info: Info,
        first: int | None = reel_resolvers.REELS_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[Reel]:
        page = await feed_resolvers.reels(info.context, first, after)
        return to_connection(page, Reel.wrap)

    @strawberry.field(description="A hashtag (without '#', any case); null when never used.")
    async def hashtag(self, info: Info, name: str) -> Hashtag | None:
        count = await post_resolvers.hashtag_post_count(info.context, name)
        return None if count is None else Hashtag(name=name.lower().lstrip("#"), post_count=count)

    @strawberry.field(description="Pending requests to follow the viewer, newest first.")
    async def follow_requests(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[User]:
        page = await follow_resolvers.follow_requests(info.context, first, after)
        return to_connection(page, User.wrap)

    @strawberry.field(
        description="The viewer's story tray: the viewer and each followed account with a "
        "live story, accounts with unseen stories first."
    )
    async def story_tray(self, info: Info) -> list[StoryTrayEntry]:
        entries = await story_resolvers.story_tray(info.context)
        return [StoryTrayEntry.wrap(entry) for entry in entries]

    @strawberry.field(description="The viewer's message threads, most recently active first.")
    async def threads(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Thread]:
        page = await message_resolvers.threads(info.context, first, after)
        return to_connection(page, Thread.wrap)

    @strawberry.field(
        description="The viewer's notifications, latest event first; likes of one post are "
        "one notification."
    )
    async def notifications(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Notification]:
        page = await notification_resolvers.notifications(info.context, first, after)
        return to_connection(page, Notification.wrap)

    @strawberry.field(
        description="The viewer's unread notifications, counted up to "
        f"{notification_resolvers.UNREAD_COUNT_CAP} (a badge shows "
        f"{notification_resolvers.UNREAD_COUNT_CAP - 1}+ there)."
    )
    async def unread_notification_count(self, info: Info) -> int:
        return await notification_resolvers.unread_count(info.context)
