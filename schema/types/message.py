"""Direct messages: the `Thread` and `Message` types, their payloads and the send input."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from resolvers import message as message_resolvers
from resolvers.ids import to_global_id
from resolvers.message import MessagePage, MessageResult, ThreadResult
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.types.common import Connection, Edge, Info, Node, UserError
from storage.message import MessageRecord, ThreadRecord

if TYPE_CHECKING:
    from schema.types.user import User

# Lazy: users will refer to their threads, and neither module imports the other.
UserType = Annotated["User", strawberry.lazy("schema.types.user")]


@strawberry.type(name="Message")
class Message(Node):
    record: strawberry.Private[MessageRecord]
    seq: int = strawberry.field(description="Its place in the thread: 1, 2, 3, ... with no gap.")
    text: str
    created_at: datetime

    @strawberry.field(description="Who sent it; null when the viewer may not see them.")
    async def sender(self, info: Info) -> UserType | None:
        from schema.types.user import User

        return User.wrap_optional(await message_resolvers.sender(info.context, self.record))

    @strawberry.field
    async def thread(self, info: Info) -> Thread | None:
        thread = await message_resolvers.visible_thread(info.context, self.record.thread_id)
        return None if thread is None else Thread.wrap(thread)

    @classmethod
    def wrap(cls, record: MessageRecord) -> Message:
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("Message", record.id)),
            seq=record.seq,
            text=record.text,
            created_at=record.created_at,
        )

    @classmethod
    def wrap_optional(cls, record: MessageRecord | None) -> Message | None:
        return None if record is None else cls.wrap(record)


@strawberry.type(name="Thread")
class Thread(Node):
    record: strawberry.Private[ThreadRecord]
    last_seq: int = strawberry.field(
        description="The seq of its latest message (0 before the first): pass it plus one "
        "as `beforeSeq` to open the thread at its end."
    )

    @strawberry.field(description="Messages the viewer has not read (its own count as read).")
    def unread_count(self, info: Info) -> int:
        viewer = info.context.viewer
        return 0 if viewer is None else self.record.unread_count(viewer.id)

    @strawberry.field(description="Its people the viewer may see, the viewer among them.")
    async def participants(self, info: Info) -> list[UserType]:
        from schema.types.user import User

        users = await message_resolvers.participants(info.context, self.record)
        return [User.wrap(user) for user in users]

    @strawberry.field
    async def last_message(self, info: Info) -> Message | None:
        return Message.wrap_optional(
            await message_resolvers.last_message(info.context, self.record)
        )

    @strawberry.field(
        description="Messages in ascending `seq`: the `first` after `afterSeq` (what a client "
        "that was offline missed), or with `beforeSeq` the `first` just before it (history, "
        "paged backwards: `pageInfo.hasPreviousPage` says whether older ones remain)."
    )
    async def messages(
        self,
        info: Info,
        after_seq: int | None = 0,
        before_seq: int | None = None,
        first: int | None = DEFAULT_PAGE_SIZE,
    ) -> Connection[Message]:
        found = await message_resolvers.messages(
            info.context, self.record, after_seq, before_seq, first
        )
        return _connection(found)

    @classmethod
    def wrap(cls, record: ThreadRecord) -> Thread:
        return cls(
            record=record,
            id=strawberry.ID(to_global_id("Thread", record.id)),
            last_seq=record.last_seq,
        )


def _connection(found: MessagePage) -> Connection[Message]:
    edges = [Edge(cursor=cursor, node=Message.wrap(record)) for cursor, record in found.page.edges]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=found.page.has_next_page,
            has_previous_page=found.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


@strawberry.type
class SendMessagePayload:
    message: Message | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: MessageResult) -> SendMessagePayload:
        return cls(
            message=Message.wrap_optional(result.message),
            errors=UserError.from_errors(result.errors),
        )


@strawberry.type
class ThreadPayload:
    thread: Thread | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: ThreadResult) -> ThreadPayload:
        return cls(
            thread=None if result.thread is None else Thread.wrap(result.thread),
            errors=UserError.from_errors(result.errors),
        )


@strawberry.input
class SendMessageInput:
    thread_id: strawberry.ID | None = strawberry.field(
        default=None, description="The thread to write to; or name `recipientIds` instead."
    )
    recipient_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="The people to write to (1 to 31, the sender aside): their thread with "
        "the sender, made by the first message.",
    )
    text: str
    client_id: str = strawberry.field(
        description="Chosen by the client, unique per send: a retry with the same one "
        "returns the first message and stores nothing."
    )
