"""The notification job: writing what a like, comment, post, follow or message tells others.

Mutations queue it (resolvers/notification.py) and respond; the worker does it, at least
once. Each job reads the truth from the stores when it runs (the post's likes, the follow as
it now is, the comment's text) and makes the notifications say exactly that, so a job done
twice, late, or after a later job of the same subject writes the same documents and counts
nothing twice. Before a notification is written, the receiver's own loaders check it as
they will when it is read (loaders/notification.py): never to oneself, never from or to an
account blocked either way, never about what the receiver may not see. Once it is written
and new, `NotificationReceived` is published on the bus.
"""

from __future__ import annotations

from jobs.context import JobServices
from loaders import Loaders
from storage.follow import FollowState
from storage.mention import parse_mentions
from storage.notification import (
    STORED_ACTORS,
    NotificationCause,
    NotificationJob,
    NotificationKind,
    NotificationWrite,
    comment_group,
    comment_mention_group,
    follow_group,
    like_group,
    message_group,
    post_mention_group,
)
from subscriptions.events import NotificationReceived


async def run_notification_job(services: JobServices, job: NotificationJob) -> None:
    match job.cause:
        case NotificationCause.LIKES:
            await _likes(services, job.subject_id)
        case NotificationCause.COMMENT:
            await _comment(services, job.subject_id)
        case NotificationCause.POST:
            await _caption_mentions(services, job.subject_id)
        case NotificationCause.FOLLOW:
            await _follow(services, follower_id=job.actor_id, followee_id=job.subject_id)
        case NotificationCause.MESSAGE:
            await _message(services, job.subject_id)


async def _likes(services: JobServices, post_id: int) -> None:
    """The post's LIKE group, recomputed: its latest likers and their exact count, less the
    author's own like and the likes of accounts blocked either way with the author."""
    stores = services.stores
    post = (await stores.posts.find_by_ids([post_id])).get(post_id)
    if post is None:
        return  # deleted: its notification is hidden with it
    receiver = post.author_id
    excluded = await stores.blocks.ids_either_way(receiver) | {receiver}
    latest = await stores.likes.latest_likers(post_id, excluding=excluded, limit=STORED_ACTORS)
    group = like_group(post_id)
    if not latest:
        await stores.notifications.remove(receiver, group)
        return
    # The post's like counter moves only with a real like or unlike, as the likes do; it
    # spares counting a popular post's likes on every like of it.
    counted = post.like_count - await stores.likes.count_likes_by(post_id, excluded)
    await _put(
        services,
        NotificationWrite(
            receiver_id=receiver,
            group=group,
            kind=NotificationKind.LIKE,
            key=latest[0][0],
            actor_ids=tuple(user_id for _, user_id in latest),
            actor_count=max(counted, len(latest)),
            post_id=post_id,
        ),
    )


async def _comment(services: JobServices, comment_id: int) -> None:
    """COMMENT to the post's author; MENTION to the others the comment names."""
    stores = services.stores
    comment = (await stores.comments.find_by_ids([comment_id])).get(comment_id)
    if comment is None:
        return  # deleted meanwhile: nothing left to tell
    post = (await stores.posts.find_by_ids([comment.post_id])).get(comment.post_id)
    if post is None:
        return
    about = {"post_id": post.id, "comment_id": comment.id}
    actor = (comment.author_id,)
    await _put(
        services,
        NotificationWrite(
            post.author_id, comment_group(comment.id), NotificationKind.COMMENT, comment.id,
            actor, 1, **about,
        ),
    )  # fmt: skip
    mentioned = await stores.users.find_ids_by_usernames(parse_mentions(comment.text))
    for user_id in mentioned:
        if user_id == post.author_id:
            continue  # told of the comment already
        await _put(
            services,
            NotificationWrite(
                user_id, comment_mention_group(comment.id), NotificationKind.MENTION,
                comment.id, actor, 1, **about,
            ),
        )  # fmt: skip


async def _caption_mentions(services: JobServices, post_id: int) -> None:
    stores = services.stores
    post = (await stores.posts.find_by_ids([post_id])).get(post_id)
    if post is None:
        return
    for user_id in post.mention_ids:
        await _put(
            services,
            NotificationWrite(
                user_id, post_mention_group(post.id), NotificationKind.MENTION, post.id,
                (post.author_id,), 1, post_id=post.id,
            ),
        )  # fmt: skip


async def _follow(services: JobServices, *, follower_id: int, followee_id: int) -> None:
    """FOLLOW or FOLLOW_REQUEST as the follow now is: an approved request becomes the follow;
    a request withdrawn or declined is taken back (a follow that ended stays told)."""
    stores = services.stores
    follow = await stores.follows.find(follower_id, followee_id)
    group = follow_group(follower_id)
    if follow is None:
        await stores.notifications.remove(followee_id, group, kind=NotificationKind.FOLLOW_REQUEST)
        return
    following = follow.state is FollowState.FOLLOWING
    kind = NotificationKind.FOLLOW if following else NotificationKind.FOLLOW_REQUEST
    await _put(services, NotificationWrite(followee_id, group, kind, follow.id, (follower_id,), 1))


async def _message(services: JobServices, message_id: int) -> None:
    """MESSAGE to each participant of the thread but the sender."""
    stores = services.stores
    message = (await stores.messages.find_messages_by_ids([message_id])).get(message_id)
    if message is None:
        return
    threads = await stores.messages.find_threads_by_ids([message.thread_id])
    thread = threads.get(message.thread_id)
    if thread is None:
        return
    for user_id in thread.participant_ids:
        if user_id == message.sender_id:
            continue
        await _put(
            services,
            NotificationWrite(
                user_id, message_group(message.id), NotificationKind.MESSAGE, message.id,
                (message.sender_id,), 1, message_id=message.id,
            ),
        )  # fmt: skip


async def _put(services: JobServices, write: NotificationWrite) -> None:
    """Write the notification if its receiver would be shown it; otherwise take back any
    earlier one of the same group (a block or a lost follow since)."""
    notifications = services.stores.notifications
    if write.actor_ids == (write.receiver_id,):
        return  # never to oneself
    loaders = Loaders.create(services.stores, write.receiver_id)
    [shown] = await loaders.notification_by_id.allowed([write.record(0)])
    if not shown:
        await notifications.remove(write.receiver_id, write.group)
        return
    record, news = await notifications.put(write, new_id=services.ids.next_id())
    if news:
        await services.bus.publish(NotificationReceived(write.receiver_id, record.id))
