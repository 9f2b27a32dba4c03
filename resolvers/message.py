"""Direct messages: threads of 2 to 32 people, messages numbered 1, 2, 3, ... in each.

A send names a thread (`threadId`) or the people to write to (`recipientIds`: the thread of
exactly them and the sender, made by the first message). A `clientId` makes a send safe to
retry: the sender's second send with one returns the first message and stores nothing.
Only participants read or send; a participant cannot send while they and another
participant have blocked one another (either way).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from resolvers import notification
from resolvers.context import Context
from resolvers.errors import BadUserInput, ErrorCode, FieldError, OkResult
from resolvers.ids import node_argument, retry_key_error, typed_id_argument
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    decode_cursor,
    encode_cursor,
    page_size,
    visible_keyset_page,
)
from resolvers.ranking import log_interaction
from resolvers.viewer import require_viewer
from storage.interaction import InteractionKind
from storage.message import MIN_GROUP_TO_LEAVE, MessageRecord, ThreadRecord
from storage.mongo import whole_milliseconds
from storage.notification import NotificationCause
from storage.user import UserRecord
from subscriptions.events import MessageReceived

MAX_MESSAGE_LENGTH = 2_000  # as a long chat message; longer belongs in a post
MAX_THREAD_PARTICIPANTS = 32  # a group chat's size, as Instagram's; fan-out per message stays small
MAX_RECIPIENTS = MAX_THREAD_PARTICIPANTS - 1  # everyone but the sender


@dataclass(frozen=True, slots=True)
class MessageResult:
    message: MessageRecord | None = None
    errors: list[FieldError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ThreadResult:
    thread: ThreadRecord | None = None
    errors: list[FieldError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MessagePage:
    page: Page[MessageRecord]
    has_previous_page: bool  # older messages precede the page (paging back through history)


def _input_errors(
    raw_thread_id: str | None, raw_recipient_ids: list[str] | None, text: str, client_id: str
) -> list[FieldError]:
    errors: list[FieldError] = []
    if (raw_thread_id is None) == (raw_recipient_ids is None):
        errors.append(
            FieldError(ErrorCode.INVALID, "threadId", "Give either threadId or recipientIds.")
        )
    elif raw_recipient_ids is not None and not 1 <= len(raw_recipient_ids) <= MAX_RECIPIENTS:
        errors.append(
            FieldError(
                ErrorCode.INVALID,
                "recipientIds",
                f"A thread has 2 to {MAX_THREAD_PARTICIPANTS} people: name 1 to "
                f"{MAX_RECIPIENTS} others.",
            )
        )
    if not 0 < len(text) <= MAX_MESSAGE_LENGTH:
        errors.append(
            FieldError(ErrorCode.INVALID, "text", f"Write 1 to {MAX_MESSAGE_LENGTH:,} characters.")
        )
    if (problem := retry_key_error(client_id, "clientId")) is not None:
        errors.append(problem)
    return errors


async def send_message(
    context: Context,
    raw_thread_id: str | None,
    raw_recipient_ids: list[str] | None,
    text: str,
    client_id: str,
) -> MessageResult:
    viewer = require_viewer(context)
    text = text.strip()
    if errors := _input_errors(raw_thread_id, raw_recipient_ids, text, client_id):
        return MessageResult(errors=errors)
    stores = context.services.stores
    earlier = await stores.messages.find_by_client_id(viewer.id, client_id)
    if earlier is not None:
        return MessageResult(message=earlier)  # a retry: the first send stored it
    target: ThreadRecord | tuple[int, ...] | FieldError
    if raw_thread_id is not None:
        target = await _named_thread(context, raw_thread_id)
    else:
        assert raw_recipient_ids is not None
        target = await _participants(context, viewer, raw_recipient_ids)
    if isinstance(target, FieldError):
        return MessageResult(errors=[target])
    participant_ids = target.participant_ids if isinstance(target, ThreadRecord) else target
    if refused := await _blocked(context, viewer, participant_ids, raw_thread_id is not None):
        return MessageResult(errors=[refused])
    services = context.services
    now = whole_milliseconds(services.clock())
    if isinstance(target, ThreadRecord):
        thread = target
    else:
        thread = await stores.messages.find_thread_by_participants(
            target
        ) or await stores.messages.find_or_create_thread(services.ids.next_id(), target, now)
    message_id = services.ids.next_id()
    message = await stores.messages.append(
        message_id=message_id,
        thread_id=thread.id,
        sender_id=viewer.id,
        text=text,
        client_id=client_id,
        created_at=now,
    )
    if message.id == message_id:  # not a retry that raced the first send, already announced
        for participant in participant_ids:
            if participant != viewer.id:
                log_interaction(context, InteractionKind.MESSAGE, viewer, participant)
        await notification.enqueue(services, NotificationCause.MESSAGE, message.id, viewer.id)
        await services.bus.publish_many(
            MessageReceived(user_id, thread.id, message.id, message.seq)
            for user_id in thread.participant_ids
        )
    return MessageResult(message=message)


async def _named_thread(context: Context, raw_thread_id: str) -> ThreadRecord | FieldError:
    return await node_argument(context, raw_thread_id, "Thread", "threadId", visible_thread)


async def _participants(
    context: Context, viewer: UserRecord, raw_recipient_ids: list[str]
) -> tuple[int, ...] | FieldError:
    """The sorted ids of the sender and the recipients, each an account the sender may see."""
    recipient_ids: set[int] = set()
    for raw in raw_recipient_ids:
        user_id = typed_id_argument(raw, "User", "recipientIds")
        if isinstance(user_id, FieldError):
            return user_id
        recipient_ids.add(user_id)
    recipient_ids.discard(viewer.id)
    if not recipient_ids:
        return FieldError(ErrorCode.INVALID, "recipientIds", "Name someone other than yourself.")
    users = await context.loaders.user_by_id.load_many(sorted(recipient_ids))
    if any(user is None for user in users):
        return FieldError(ErrorCode.NOT_FOUND, "recipientIds", "No such user.")
    return tuple(sorted(recipient_ids | {viewer.id}))


async def _blocked(
    context: Context, viewer: UserRecord, participant_ids: tuple[int, ...], by_thread: bool
) -> FieldError | None:
    others = [user_id for user_id in participant_ids if user_id != viewer.id]
    blocked = await context.loaders.blocked_by_user_id.load_many(others)
    if not any(blocked):
        return None
    return FieldError(
        ErrorCode.FORBIDDEN,
        "threadId" if by_thread else "recipientIds",
        "You cannot message someone you blocked or who blocked you.",
    )


async def mark_thread_read(context: Context, raw_thread_id: str, seq: int) -> ThreadResult:
    """Raise the viewer's read position to `seq` (at most the thread's last); a lower `seq`
    than already read changes nothing, so read positions never move backwards."""
    viewer = require_viewer(context)
    if seq < 0:
        return ThreadResult(errors=[FieldError(ErrorCode.INVALID, "seq", "Use 0 or more.")])
    thread = await _named_thread(context, raw_thread_id)
    if isinstance(thread, FieldError):
        return ThreadResult(errors=[thread])
    updated = await context.services.stores.messages.mark_read(
        thread.id, viewer.id, min(seq, thread.last_seq)
    )
    context.loaders.thread_by_id.clear(thread.id)
    return ThreadResult(thread=updated)


async def leave_thread(context: Context, raw_thread_id: str) -> OkResult:
    """Leave a group thread: from then on the viewer neither reads it, nor sends to it, nor
    is pushed its messages (every event is checked against the thread's people); the
    others keep it. A thread of two cannot be left (INVALID naming `threadId`)."""
    viewer = require_viewer(context)
    thread = await _named_thread(context, raw_thread_id)
    if isinstance(thread, FieldError):
        return OkResult(errors=[thread])
    if len(thread.participant_ids) < MIN_GROUP_TO_LEAVE:
        message = f"Only a thread of {MIN_GROUP_TO_LEAVE} or more people can be left."
        return OkResult(errors=[FieldError(ErrorCode.INVALID, "threadId", message)])
    left = await context.services.stores.messages.leave(thread.id, viewer.id)
    context.loaders.thread_by_id.clear(thread.id)
    return OkResult(ok=left is not None)


async def visible_thread(context: Context, thread_id: int) -> ThreadRecord | None:
    """The thread, if it exists and the viewer takes part in it."""
    return await context.loaders.thread_by_id.load(thread_id)


async def visible_message(context: Context, message_id: int) -> MessageRecord | None:
    return await context.loaders.message_by_id.load(message_id)


async def threads(context: Context, first: int | None, after: str | None) -> Page[ThreadRecord]:
    """The viewer's inbox: threads with a message, most recently active first."""
    viewer = require_viewer(context)
    size = page_size(first, DEFAULT_PAGE_SIZE)

    async def fetch(before_key: int | None, limit: int) -> list[ThreadRecord]:
        return await context.services.stores.messages.inbox_page(
            viewer.id, before_key=before_key, limit=limit
        )

    return await visible_keyset_page(
        fetch,
        context.loaders.thread_by_id.filter,
        lambda thread: thread.activity_key,
        size,
        decode_cursor(after),
    )


async def messages(
    context: Context,
    thread: ThreadRecord,
    after_seq: int | None,
    before_seq: int | None,
    first: int | None,
) -> MessagePage:
    """Ascending seq: the `first` after `afterSeq` (catch-up), or with `beforeSeq` the `first`
    just before it (history, paged backwards)."""
    size = page_size(first, DEFAULT_PAGE_SIZE)
    store = context.services.stores.messages
    if before_seq is not None:
        if after_seq:
            raise BadUserInput("Give `afterSeq` or `beforeSeq`, not both.")
        if before_seq < 1:
            raise BadUserInput("`beforeSeq` must be at least 1.")
        newest_first = await store.messages_before(thread.id, before_seq, size + 1)
        rows = await context.loaders.message_by_id.filter(newest_first[:size][::-1])
        return MessagePage(
            page=Page(
                edges=[(encode_cursor(row.seq), row) for row in rows],
                has_next_page=before_seq <= thread.last_seq,
            ),
            has_previous_page=len(newest_first) > size,
        )
    after = after_seq or 0
    if after < 0:
        raise BadUserInput("`afterSeq` must be 0 or more.")
    oldest_first = await store.messages_after(thread.id, after, size + 1)
    rows = await context.loaders.message_by_id.filter(oldest_first[:size])
    return MessagePage(
        page=Page(
            edges=[(encode_cursor(row.seq), row) for row in rows],
            has_next_page=len(oldest_first) > size,
        ),
        has_previous_page=after > 0,
    )


async def last_message(context: Context, thread: ThreadRecord) -> MessageRecord | None:
    if thread.last_message_id is None:
        return None
    return await context.loaders.message_by_id.load(thread.last_message_id)


async def participants(context: Context, thread: ThreadRecord) -> list[UserRecord]:
    """The thread's people the viewer may see (not those blocked either way), in id order."""
    users = await context.loaders.user_by_id.load_many(list(thread.participant_ids))
    return [user for user in users if user is not None]


async def sender(context: Context, message: MessageRecord) -> UserRecord | None:
    return await context.loaders.user_by_id.load(message.sender_id)
