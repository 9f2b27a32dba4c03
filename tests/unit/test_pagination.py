from __future__ import annotations

import pytest

from resolvers.errors import BadUserInput
from resolvers.pagination import (
    FILL_ROUNDS,
    MAX_PAGE_SIZE,
    Page,
    decode_cursor,
    encode_cursor,
    keyset_page,
    page_size,
    visible_keyset_page,
)

ROWS = list(range(1, 11))  # a list of keys 1 to 10, oldest first


async def visible_page(hidden: set[int], size: int, reads: list[int] | None = None) -> Page[int]:
    """A page of ROWS with `hidden` left out; each read's limit is appended to `reads`."""

    async def fetch(after: int | None, limit: int) -> list[int]:
        if reads is not None:
            reads.append(limit)
        return [row for row in ROWS if after is None or row > after][:limit]

    async def keep(rows: list[int]) -> list[int]:
        return [row for row in rows if row not in hidden]

    return await visible_keyset_page(fetch, keep, lambda row: row, size, None)


def test_a_cursor_round_trips_its_key() -> None:
    assert decode_cursor(encode_cursor(123456789)) == 123456789


def test_no_cursor_means_the_first_page() -> None:
    assert decode_cursor(None) is None


@pytest.mark.parametrize("cursor", ["", "%%%", "bm9wZQ==", "azotMQ==", "azoxLjU="])
def test_a_malformed_cursor_is_bad_user_input(cursor: str) -> None:
    with pytest.raises(BadUserInput):
        decode_cursor(cursor)


def test_page_size_is_capped() -> None:
    assert page_size(MAX_PAGE_SIZE * 10, default=20) == MAX_PAGE_SIZE


def test_a_null_page_size_means_the_default() -> None:
    assert page_size(None, default=20) == 20


def test_a_negative_page_size_is_bad_user_input() -> None:
    with pytest.raises(BadUserInput):
        page_size(-1, default=20)


def test_a_page_size_of_zero_is_bad_user_input() -> None:
    """An empty page has no cursor: it could only claim more without a way to reach it."""
    with pytest.raises(BadUserInput):
        page_size(0, default=20)


def test_the_extra_row_tells_that_another_page_follows() -> None:
    page = keyset_page([30, 20, 10], size=2, key=lambda row: row)

    assert [row for _, row in page.edges] == [30, 20]
    assert page.has_next_page is True
    assert decode_cursor(page.edges[-1][0]) == 20


async def test_a_visible_page_reads_past_hidden_rows_to_fill_itself() -> None:
    page = await visible_page(hidden={1, 2, 3}, size=2)

    assert [row for _, row in page.edges] == [4, 5]
    assert page.has_next_page


async def test_a_visible_page_knows_its_end_when_the_last_rows_are_hidden() -> None:
    page = await visible_page(hidden={9, 10}, size=8)

    assert [row for _, row in page.edges] == list(range(1, 9))
    assert not page.has_next_page


async def test_a_visible_page_with_nothing_hidden_reads_once() -> None:
    reads: list[int] = []

    page = await visible_page(hidden=set(), size=3, reads=reads)

    assert [row for _, row in page.edges] == [1, 2, 3]
    assert reads == [4]


async def test_a_visible_page_stops_reading_after_its_rounds() -> None:
    reads: list[int] = []

    page = await visible_page(hidden=set(ROWS), size=1, reads=reads)

    assert page.edges == []
    assert not page.has_next_page  # an empty page has no cursor to go on from
    assert len(reads) == FILL_ROUNDS
