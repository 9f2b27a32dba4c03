"""The root `Mutation` type: thin fields that hand over to resolvers and wrap their results."""

from __future__ import annotations

import strawberry

from resolvers import (
    account,
    block,
    comment,
    follow,
    like,
    message,
    notification,
    post,
    reel,
    story,
    upload,
)
from schema.rate_limits import rate_limited
from schema.types.account import AuthPayload, LogInInput, SignUpInput
from schema.types.comment import AddCommentInput, CommentPayload
from schema.types.common import DeletePayload, Info, OkPayload, UserError
from schema.types.follow import FollowPayload
from schema.types.message import SendMessageInput, SendMessagePayload, ThreadPayload
from schema.types.post import CreatePostInput, PostPayload
from schema.types.reel import CreateReelInput, RecordReelViewPayload, ReelPayload
from schema.types.story import CreateStoryInput, StoryPayload
from schema.types.upload import CreateUploadInput, CreateUploadPayload
from schema.types.user import UpdateProfileInput, User, UserPayload


@rate_limited
@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an account and sign in to it.")
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
        return AuthPayload.from_result(
            await account.sign_up(info.context, input.username, input.email, input.password)
        )

    @strawberry.mutation(description="Sign in with a username or email and a password.")
    async def log_in(self, info: Info, input: LogInInput) -> AuthPayload:
        return AuthPayload.from_result(
            await account.log_in(info.context, input.login, input.password)
        )

    @strawberry.mutation(description="Revoke the token this request was made with.")
    async def log_out(self, info: Info) -> OkPayload:
        return OkPayload.from_result(await account.log_out(info.context))

    @strawberry.mutation(
        description="Change the viewer's profile; omitted fields stay as they are."
    )
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UserPayload:
        result = await account.update_profile(
            info.context,
            display_name=input.display_name,
            bio=input.bio,
            is_private=input.is_private,
            avatar_upload_id=input.avatar_upload_id,
        )
        return UserPayload(
            user=User.wrap_optional(result.user), errors=UserError.from_errors(result.errors)
        )

    @strawberry.mutation(description="Follow an account, or ask to when it is private.")
    async def follow_user(self, info: Info, user_id: strawberry.ID) -> FollowPayload:
        return FollowPayload.from_result(await follow.follow_user(info.context, user_id))

    @strawberry.mutation(description="Stop following an account, or withdraw a request.")
    async def unfollow_user(self, info: Info, user_id: strawberry.ID) -> FollowPayload:
        return FollowPayload.from_result(await follow.unfollow_user(info.context, user_id))

    @strawberry.mutation(description="Approve or decline a request to follow the viewer.")
    async def respond_to_follow_request(
        self, info: Info, user_id: strawberry.ID, approve: bool
    ) -> FollowPayload:
        return FollowPayload.from_result(
            await follow.respond_to_follow_request(info.context, user_id, approve)
        )

    @strawberry.mutation(description="Block an account: both stop seeing each other.")
    async def block_user(self, info: Info, user_id: strawberry.ID) -> OkPayload:
        return OkPayload.from_result(await block.block_user(info.context, user_id))

    @strawberry.mutation(description="Lift a block; follows it ended stay ended.")
    async def unblock_user(self, info: Info, user_id: strawberry.ID) -> OkPayload:
        return OkPayload.from_result(await block.unblock_user(info.context, user_id))

    @strawberry.mutation(description="Get a signed form to upload a photo or video with.")
    async def create_upload(self, info: Info, input: CreateUploadInput) -> CreateUploadPayload:
        return CreateUploadPayload.from_result(
            await upload.create_upload(info.context, input.content_type, input.byte_size)
        )

    @strawberry.mutation(description="Post 1 to 10 uploaded photos with a caption.")
    async def create_post(self, info: Info, input: CreatePostInput) -> PostPayload:
        return PostPayload.from_result(
            await post.create_post(
                info.context, list(input.upload_ids), input.caption, input.client_mutation_id
            )
        )

    @strawberry.mutation(description="Delete one of the viewer's posts.")
    async def delete_post(self, info: Info, post_id: strawberry.ID) -> DeletePayload:
        return DeletePayload.from_result(await post.delete_post(info.context, post_id), "Post")

    @strawberry.mutation(description="Like a post; liking twice leaves one like.")
    async def like_post(self, info: Info, post_id: strawberry.ID) -> PostPayload:
        return PostPayload.from_result(await like.like_post(info.context, post_id))

    @strawberry.mutation(description="Take back a like; not an error when there was none.")
    async def unlike_post(self, info: Info, post_id: strawberry.ID) -> PostPayload:
        return PostPayload.from_result(await like.unlike_post(info.context, post_id))

    @strawberry.mutation(description="Comment on a post, or reply to a comment on it.")
    async def add_comment(self, info: Info, input: AddCommentInput) -> CommentPayload:
        return CommentPayload.from_result(
            await comment.add_comment(info.context, input.post_id, input.text, input.reply_to_id)
        )

    @strawberry.mutation(description="Delete a comment (its author or the post's author).")
    async def delete_comment(self, info: Info, comment_id: strawberry.ID) -> DeletePayload:
        return DeletePayload.from_result(
            await comment.delete_comment(info.context, comment_id), "Comment"
        )

    @strawberry.mutation(
        description="Send a message to a thread, or to people (their thread with the viewer)."
    )
    async def send_message(self, info: Info, input: SendMessageInput) -> SendMessagePayload:
        return SendMessagePayload.from_result(
            await message.send_message(
                info.context,
                input.thread_id,
                None if input.recipient_ids is None else list(input.recipient_ids),
                input.text,
                input.client_id,
            )
        )

    @strawberry.mutation(
        description="Mark a thread read up to `seq`; never moves the read position back."
    )
    async def mark_thread_read(
        self, info: Info, thread_id: strawberry.ID, seq: int
    ) -> ThreadPayload:
        return ThreadPayload.from_result(
            await message.mark_thread_read(info.context, thread_id, seq)
        )

    @strawberry.mutation(
        description="Leave a group thread (3 or more people): no more reading, sending or "
        "pushes from it; the others keep it. INVALID (naming `threadId`) for a thread of two."
    )
    async def leave_thread(self, info: Info, thread_id: strawberry.ID) -> OkPayload:
        return OkPayload.from_result(await message.leave_thread(info.context, thread_id))

    @strawberry.mutation(description="Mark every notification so far read.")
    async def mark_notifications_read(self, info: Info) -> OkPayload:
        return OkPayload.from_result(await notification.mark_read(info.context))

    @strawberry.mutation(
        description="Share an MP4 (up to 90 s) as a reel: it is PROCESSING at once, READY "
        "(or FAILED, with the reason) once transcoded."
    )
    async def create_reel(self, info: Info, input: CreateReelInput) -> ReelPayload:
        return ReelPayload.from_result(
            await reel.create_reel(
                info.context, input.upload_id, input.caption, input.client_mutation_id
            )
        )

    @strawberry.mutation(
        description="Record that the viewer watched a reel for `watchedSeconds` (capped at "
        "its duration): each viewer counts once in viewCount, every watch is logged."
    )
    async def record_reel_view(
        self, info: Info, reel_id: strawberry.ID, watched_seconds: float
    ) -> RecordReelViewPayload:
        return RecordReelViewPayload.from_result(
            await reel.record_reel_view(info.context, reel_id, watched_seconds)
        )

    @strawberry.mutation(
        description="Share a photo or an MP4 (up to 60 s) as a story for 24 hours."
    )
    async def create_story(self, info: Info, input: CreateStoryInput) -> StoryPayload:
        return StoryPayload.from_result(await story.create_story(info.context, input.upload_id))

    @strawberry.mutation(description="Mark a story seen; marking it again changes nothing.")
    async def mark_story_seen(self, info: Info, story_id: strawberry.ID) -> StoryPayload:
        return StoryPayload.from_result(await story.mark_story_seen(info.context, story_id))
