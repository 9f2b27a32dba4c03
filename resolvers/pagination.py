"""Relay cursor connections over keysets: a cursor is the key of the last row seen, so pages
stay stable while new rows arrive (an offset would shift)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from resolvers.errors import BadUserInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100  # as GitHub's GraphQL API: bounds the work one request can ask for
CURSOR_PREFIX = "k:"  # versions the cursor format
CURSOR_MAC_BYTES = 12  # 96 bits: unforgeable, and cursors stay short
FILL_ROUNDS = 4  # reads of more rows when hiding some left a page short: bounds the work
MAX_KEY = (1 << 63) - 1  # keys are ids or positions: signed 64-bit in MongoDB
# ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses.
KEY_PATTERN = re.compile(r"[0-9]{1,19}")

RowT = TypeVar("RowT")
NodeT = TypeVar("NodeT")


@dataclass(frozen=True, slots=True)
class Page(Generic[NodeT]):
    edges: list[tuple[str, NodeT]]  # (cursor, node)
    has_next_page: bool


def page_size(first: int | None, default: int) -> int:
    """The rows to return for `first`, capped: null means `default`, which must be the
    default the field declares, so that null and an omitted `first` are the same request.

    Less than one is BAD_USER_INPUT. An empty page has no cursor to go on from, so
    `first: 0` could only answer "there is more" without a way to reach it.
    """
    if first is None:
        return default
    if first < 1:
        raise BadUserInput("`first` must be at least 1.")
    return min(first, MAX_PAGE_SIZE)


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    """The key `cursor` stands for; None for the first page; BAD_USER_INPUT when malformed."""
    if cursor is None:
        return None
    text = _cursor_text(cursor)
    key = text.removeprefix(CURSOR_PREFIX)
    if key == text:
        raise BadUserInput("`after` is not a valid cursor.")
    return _key(key)


def _cursor_text(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInput("`after` is not a valid cursor.") from None


def _key(text: str) -> int:
    """The key `text` spells, or BAD_USER_INPUT: never int()'s ValueError or a key that
    MongoDB cannot hold."""
    if KEY_PATTERN.fullmatch(text) is None or int(text) > MAX_KEY:
        raise BadUserInput("`after` is not a valid cursor.")
    return int(text)


def keyset_page(rows: Sequence[RowT], size: int, key: Callable[[RowT], int]) -> Page[RowT]:
    """A page from `rows` fetched with `limit=size + 1` (the extra row tells hasNextPage)."""
    return Page(
        edges=[(encode_cursor(key(row)), row) for row in rows[:size]],
        has_next_page=len(rows) > size,
    )


async def fill_page(
    fetch: Callable[[int | None, int], Awaitable[Sequence[RowT]]],
    keep: Callable[[list[RowT]], Awaitable[list[NodeT]]],
    key: Callable[[RowT], int],
    size: int,
    after_key: int | None,
) -> tuple[list[NodeT], bool]:
    """A page of what the viewer may see of a list, and whether more follows.

    `fetch(after_key, limit)` reads the next `limit` rows of the list after that key (None:
    from its start); `keep(rows)` returns what of them the viewer may see, in order. When
    hiding rows leaves the page short, more are read, up to FILL_ROUNDS reads, so that a page
    comes back empty only at the end of the list: an empty page has no cursor to go on
    from. If every row of those reads was hidden, the page is empty and says the list
    ends, rather than send a client paging by `endCursor` back to its start.
    """
    shown: list[NodeT] = []
    exhausted = False
    for _ in range(FILL_ROUNDS):
        limit = size + 1 - len(shown)  # one more than the page: it tells hasNextPage
        rows = list(await fetch(after_key, limit))
        exhausted = len(rows) < limit
        shown += await keep(rows)
        if exhausted or len(shown) > size:
            break
        after_key = key(rows[-1])
    return shown[:size], len(shown) > size or (not exhausted and bool(shown))


async def visible_keyset_page(
    fetch: Callable[[int | None, int], Awaitable[Sequence[RowT]]],
    keep: Callable[[list[RowT]], Awaitable[list[RowT]]],
    key: Callable[[RowT], int],
    size: int,
    after_key: int | None,
) -> Page[RowT]:
    """`fill_page` as a connection page, each row's cursor its key."""
    rows, has_next_page = await fill_page(fetch, keep, key, size, after_key)
    return Page(edges=[(encode_cursor(key(row)), row) for row in rows], has_next_page=has_next_page)


def encode_signed_cursor(secret: bytes, scope: str, values: list[int]) -> str:
    """A cursor only its scope (its list and its viewer) accepts back: forging one, or
    using another viewer's, fails the signature."""
    payload = ".".join(map(str, values))
    return base64.urlsafe_b64encode(f"{payload}.{_mac(secret, scope, payload)}".encode()).decode()


def decode_signed_cursor(secret: bytes, scope: str, cursor: str, count: int) -> list[int]:
    payload, _, mac = _cursor_text(cursor).rpartition(".")
    # compare_digest takes str only when both are ASCII; bytes always.
    if not hmac.compare_digest(mac.encode(), _mac(secret, scope, payload).encode()):
        raise BadUserInput("`after` is not a cursor of this list for this viewer.")
    values = payload.split(".")
    if len(values) != count:
        raise BadUserInput("`after` is not a valid cursor.")
    return [_key(value) for value in values]


def _mac(secret: bytes, scope: str, payload: str) -> str:
    digest = hmac.new(secret, f"{scope}|{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:CURSOR_MAC_BYTES]).decode().rstrip("=")
